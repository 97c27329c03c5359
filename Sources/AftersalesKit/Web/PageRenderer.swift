import AftersalesDomain
import Crypto
import Foundation
import Mustache

/// The pages of `aftersales serve`: `templates/<locale>/page-*.mustache`, rendered strictly from a
/// typed ``PageContext`` in the buyer's locale (overridable through `templates.dir`, like mail).
public struct PageRenderer: Sendable {
    /// The pages there are: `page-<name>`.
    public enum Page: String, Sendable, CaseIterable {
        case unsubscribe, survey, rating, receipt, preferences, done, invalid, error
        var template: String { "page-" + rawValue }
    }

    let templates: TemplateStore
    /// Pages already rendered, by the values their templates look up.
    let memo: PageMemo

    /// The locales a page can be written in, with each language's own name (the preferences page's choice).
    public static let languages: [(tag: String, name: String)] = [
        ("en", "English"), ("es", "Español"), ("fr", "Français"), ("pt", "Português"), ("de", "Deutsch"),
        ("ru", "Русский"), ("ar", "العربية"), ("zh-Hans", "简体中文"),
    ]

    public init(templates: TemplateStore) {
        self.templates = templates
        memo = PageMemo(templates: templates)
    }

    /// The first locale along the chain that has the page.
    func locale(for page: Page, chain: [String]) -> String {
        chain.first { templates.texts[$0]?[page.template] != nil } ?? "en"
    }

    /// The page in the first locale of `chain` that has it, with the CSP hashes of its inline styles.
    public func render(_ page: Page, chain: [String], context: PageContext) throws(TemplateStore.Problem) -> RenderedPage {
        let locale = locale(for: page, chain: chain)
        var context = context
        context.lang = locale
        context.isRTL = MailRenderer.direction(locale) == "rtl"
        let key = memo.key(page.template, locale: locale, context: context)
        if let key, let page = memo.pages.cached(key) { return page }
        let html = try templates.render(page.template, locale: locale, context: context)
        let rendered = RenderedPage(html: html, styleHashes: Self.styleHashes(html))
        if let key { memo.pages.keep(rendered, for: key) }
        return rendered
    }

    /// `'sha256-…'` of each `<style>` block, for a Content-Security-Policy that allows exactly those.
    /// (Found by Foundation's search: a page's hashes are made when it is rendered, and ``PageMemo`` keeps the
    /// pages the server renders by the thousand.)
    static func styleHashes(_ html: String) -> [String] {
        var hashes: [String] = [], rest = html[...]
        while let open = rest.range(of: "<style>"), let close = rest[open.upperBound...].range(of: "</style>") {
            hashes.append("'sha256-" + Data(SHA256.hash(data: Data(rest[open.upperBound..<close.lowerBound].utf8))).base64EncodedString() + "'")
            rest = rest[close.upperBound...]
        }
        return hashes
    }
}

/// Rendered pages by the values of the names their templates look up. A page is a function of those
/// values alone, so pages that look up the same ones (every "done" page of a locale, whatever link
/// it answers) are rendered once. Rendering was 60% of the one-click unsubscribe POST's handling
/// (perf, release, under wrk; `make bench` row 8a), for a page that is the same for every buyer.
///
/// A page whose names cannot all be told from its text (``TemplateStore/Tags/opaque``), or that looks
/// up anything but text, numbers and flags (a list, or an object a section would step into), is
/// rendered every time.
final class PageMemo: Sendable {
    /// A page's key: the template, the locale and the values its names have.
    struct Key: Hashable {
        var template: String, locale: String
        var values: [Value]
    }

    /// The value of one name: nothing, text, a flag or a number.
    enum Value: Hashable {
        case none, text(String), flag(Bool), number(Int)
    }

    /// The names each template of each locale looks up, split at their dots; nil: it cannot be memoized.
    /// Read once: the templates do not change while the server runs.
    private let names: [String: [String: [[String]]?]]
    /// The pages, 512 at most; then the memo starts again (a form page, keyed by its link, never repeats).
    let pages = Memo<Key, RenderedPage>(capacity: 512)

    init(templates: TemplateStore) {
        names = Dictionary(uniqueKeysWithValues: templates.texts.map { locale, texts in
            (locale, Dictionary(uniqueKeysWithValues: texts.keys.filter { $0.hasPrefix("page-") }.map { template in
                (template, templates.lookedUpNames(template, locale: locale)?.map { $0.split(separator: ".").map(String.init) })
            }))
        })
    }

    /// The memo's key for `template` of `locale` with `context`; nil when it is not memoized.
    func key(_ template: String, locale: String, context: any MustacheParent) -> Key? {
        guard let paths = names[locale]?[template] ?? nil else { return nil }
        var values: [Value] = []
        values.reserveCapacity(paths.count)
        for path in paths {
            var value = context.child(named: path[0])
            for part in path.dropFirst() {
                guard let current = value else { break }
                guard let parent = current as? MustacheParent else { return nil }
                value = parent.child(named: part)
            }
            guard let value else { values.append(.none); continue }
            // The scalars by their dynamic type (a protocol cast per name cost as much as the render saved).
            let type = type(of: value)
            if type == String.self { values.append(.text(value as! String)) }
            else if type == Bool.self { values.append(.flag(value as! Bool)) }
            else if type == Int.self { values.append(.number(value as! Int)) }
            else { return nil }
        }
        return Key(template: template, locale: locale, values: values)
    }
}

/// A rendered page and what its Content-Security-Policy must allow.
public struct RenderedPage: Sendable {
    public var html: String
    public var styleHashes: [String]

    /// The strict policy: nothing but this page's own inline styles, forms posting back here, no framing.
    public var contentSecurityPolicy: String {
        "default-src 'none'; style-src \(styleHashes.isEmpty ? "'none'" : styleHashes.joined(separator: " ")); img-src 'none'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }
}

/// The data a page's template sees (see `templates/CONTRACT.md`, "Pages").
public struct PageContext: MustacheParent, Sendable {
    /// One choice of a list: a score, a rating or a language.
    public struct Choice: MustacheParent, Sendable {
        public var value: String
        public var label: String
        public var checked: Bool
        public func child(named name: String) -> Any? {
            switch name {
            case "value": value
            case "label": label
            case "checked": checked
            default: nil
            }
        }
    }

    /// `company.*`.
    struct Company: MustacheParent {
        var name: String
        func child(named name: String) -> Any? { name == "name" ? self.name : nil }
    }

    public var lang = "en"
    public var isRTL = false
    public var companyName = ""
    /// The path the page's form posts to (the link itself: the POST carries the token).
    public var action = ""
    public var orderID = ""
    public var complaintID = ""
    public var shipmentID = ""
    /// Survey: the eleven scores, what pleased most and the intent, as the link or the last answer chose them.
    public var scores: [Choice] = []
    public var likedLogistics = false, likedSupport = false, likedQuality = false
    public var intentYes = false, intentNo = false, intentUnsure = false
    public var reason = ""
    /// Rating: 1 to 5.
    public var ratings: [Choice] = []
    /// Preferences: the languages and whether marketing mail is on.
    public var languages: [Choice] = []
    public var marketing = false
    /// Done: what was recorded, and whether it had been already.
    public var done = ""
    public var already = false
    /// Invalid: whether the link expired (else it is unknown or changed).
    public var expired = false
    /// Error: what was wrong with the answer (one line naming the field and value).
    public var detail = ""

    public init() {}

    public func child(named name: String) -> Any? {
        switch name {
        case "lang": lang
        case "dir": isRTL ? "rtl" : "ltr"
        case "is_rtl": isRTL
        case "company": Company(name: companyName)
        case "action": action
        case "order_id": orderID
        case "complaint_id": complaintID
        case "shipment_id": shipmentID
        case "scores": scores
        case "liked_logistics": likedLogistics
        case "liked_support": likedSupport
        case "liked_quality": likedQuality
        case "intent_yes": intentYes
        case "intent_no": intentNo
        case "intent_unsure": intentUnsure
        case "reason": reason
        case "ratings": ratings
        case "languages": languages
        case "marketing": marketing
        case "done_unsubscribe": done == "unsubscribe"
        case "done_survey": done == "survey"
        case "done_rating": done == "rating"
        case "done_receipt": done == "receipt"
        case "done_preferences": done == "preferences"
        case "already": already
        case "expired": expired
        case "detail": detail
        default: nil
        }
    }
}

extension PageRenderer {
    /// Every page in every locale rendered with sample data, for `templates check`: each problem.
    func check(locales: [String]) -> [String] {
        var context = PageContext()
        context.companyName = "Example Export Co."
        context.action = "/s/SAMPLE"
        context.orderID = "SO-1"
        context.complaintID = "K-1"
        context.shipmentID = "SH-1"
        context.scores = (0...10).map { PageContext.Choice(value: String($0), label: String($0), checked: $0 == 7) }
        context.ratings = (1...5).map { PageContext.Choice(value: String($0), label: String($0), checked: $0 == 4) }
        context.languages = Self.languages.map { PageContext.Choice(value: $0.tag, label: $0.name, checked: $0.tag == "en") }
        context.detail = "score \"11\": expected a whole number from 0 to 10"
        var problems: [String] = []
        for locale in locales {
            for page in Page.allCases {
                guard templates.texts[locale]?[page.template] != nil else {
                    // A locale of its own (an override's) falls back to English; the built-in ones have every page.
                    guard Self.languages.contains(where: { $0.tag == locale }) else { continue }
                    problems.append("template \(locale)/\(page.template): missing (the page of `aftersales serve`)")
                    continue
                }
                var sample = context
                sample.done = "survey"
                do { _ = try render(page, chain: [locale], context: sample) } catch { problems.append(error.description) }
            }
        }
        return problems
    }
}
