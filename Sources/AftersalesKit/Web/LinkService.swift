import AftersalesDomain
import AftersalesPlanning
import Foundation

/// What `aftersales serve` does with a signed link, apart from HTTP: checks the token against the
/// outbox, renders the page, records the answer through the store's recording path. A refused token
/// or a bad answer writes nothing.
public struct LinkService: Sendable {
    let store: AftersalesStore
    let links: LinkReader
    let keys: LinkKeys
    let pages: PageRenderer
    let companyName: String
    /// The clock: token expiry and the time of every recorded answer.
    let clock: @Sendable () -> Date

    /// The service over `store`, reading link targets through a read-only connection of its own
    /// (``AftersalesStore/linkReader()``); throws when that connection cannot be opened.
    public init(store: AftersalesStore, keys: LinkKeys, pages: PageRenderer, companyName: String, clock: @escaping @Sendable () -> Date) throws(AftersalesError) {
        self.store = store
        links = try store.linkReader()
        self.keys = keys
        self.pages = pages
        self.companyName = companyName
        self.clock = clock
    }

    /// An answer to one request.
    public struct Reply: Sendable {
        public var status: Int
        public var page: RenderedPage
    }

    /// A link's checked target: the token, the mail it came in and its customer.
    struct Target {
        var token: LinkToken
        /// The token as the link carries it (the page's form posts back to the same link).
        var text: String
        var mail: LinkedMail
        var customer: LinkedCustomer
        var chain: [String]
    }

    /// The form field that says the POST's body could not be read as a form (its value: why).
    public static let unreadable = "_unreadable"

    /// The templates of the mails each purpose's link is sent in (unsubscribe and preferences: any mail).
    static let receiptTemplates: Set<String> = ["customs-held", "transit-update", Planner.lateTransitTemplate, "delay-notice"]

    /// Handles a GET (`post` false: shows the page, writes nothing) or a POST (records) of `purpose`'s link.
    /// `query` holds the link's query (the chosen score), `form` the POST's fields.
    ///
    /// The link's target is one read of a cached statement in the request's task (``LinkReader/target(mailKey:customerID:)``);
    /// an answer that reads or writes more runs on a GCD thread (``offload(_:)``), so that a write
    /// waiting for `run`'s lock never holds one of the few threads of Swift's concurrency pool. A one-click
    /// unsubscribe of a buyer already unsubscribed, and the pages that need no more than the target, are
    /// answered at once.
    public func handle(_ purpose: LinkPurpose, token text: String, post: Bool, query: [String: String], form: [String: [String]],
                       languages: [String]) async -> Reply {
        let now = clock()
        let target: Target
        do {
            switch try resolve(text, purpose: purpose, now: now) {
            case .success(let found): target = found
            case .failure(let refusal): return invalid(expired: refusal == .expired, languages: languages)
            }
        } catch {
            // The database, not the link, failed: say so, and let the buyer try again.
            var context = base(nil)
            context.detail = "the answer could not be recorded now; please try again in a moment"
            return render(.error, status: 503, chain: languages + ["en"], context)
        }
        if post, let problem = form[Self.unreadable]?.first {
            return failure(InvalidInput(field: "form", value: String(problem.prefix(80)), problem: "could not be read").description, target)
        }
        if !post, let shown = Self.targetPage(purpose) { return page(shown, target) }
        // Already unsubscribed (as read a moment ago): nothing to write. The store's own check covers a race.
        if post, purpose == .unsubscribe, target.customer.unsubscribed { return done("unsubscribe", already: true, target) }
        return await Self.offload { answer(purpose, target, post: post, query: query, form: form, now: now) }
    }

    /// The page a GET of `purpose` shows from the link's target alone (nil: it reads more, as the survey's
    /// last answer).
    static func targetPage(_ purpose: LinkPurpose) -> PageRenderer.Page? {
        switch purpose {
        case .unsubscribe: .unsubscribe
        case .confirmReceipt: .receipt
        case .preferences: .preferences
        case .survey, .rating: nil
        }
    }

    /// The answers that read or write beyond the link's target, on the calling (GCD) thread.
    func answer(_ purpose: LinkPurpose, _ target: Target, post: Bool, query: [String: String], form: [String: [String]], now: Date) -> Reply {
        do {
            switch (purpose, post) {
            case (.unsubscribe, true):
                _ = try store.unsubscribe(customerID: target.customer.id, at: now, now: now)
                return done("unsubscribe", already: false, target)
            case (.survey, false): return try surveyPage(target, query: query)
            case (.survey, true): return try recordSurvey(target, form: form, now: now)
            case (.rating, false): return try ratingPage(target, query: query)
            case (.rating, true): return try recordRating(target, form: form, now: now)
            case (.confirmReceipt, true): return try confirmReceipt(target, now: now)
            case (.preferences, true): return try recordPreferences(target, form: form, now: now)
            case (.unsubscribe, false), (.confirmReceipt, false), (.preferences, false):
                // `handle` shows these at once; the same page if they get here.
                return page(Self.targetPage(purpose) ?? .error, target)
            }
        } catch let error as AftersalesError {
            if case .invalid(let input) = error { return failure(input.description, target) }
            return failure(error.isUsageError ? error.description : "the answer could not be recorded now; please try again in a moment", target,
                           status: error.isUsageError ? 409 : 503)
        } catch {
            return failure("the answer could not be recorded now; please try again in a moment", target, status: 503)
        }
    }

    /// Runs blocking store work (SQLite, perhaps waiting for `run`'s write lock) on a GCD thread, so that
    /// the few threads of Swift's concurrency pool stay free for the connections.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }

    // MARK: The token's target

    /// The checked target of a token, or why the link is refused; a database failure is thrown.
    func resolve(_ text: String, purpose: LinkPurpose, now: Date) throws(AftersalesError) -> Result<Target, LinkToken.Refusal> {
        let token: LinkToken
        do { token = try keys.verify(text, purpose: purpose, now: now) } catch { return .failure(error) }
        // A mail no longer in the outbox, or of another customer, is no link of ours.
        guard let (mail, customer) = try links.target(mailKey: token.mailKey, customerID: token.customerID) else {
            return .failure(.badSignature)
        }
        let fits = switch purpose {
        case .unsubscribe, .preferences: true
        case .survey: mail.template == "survey" && mail.orderID != nil
        case .rating: mail.template == "satisfaction-check" && mail.complaintID != nil
        case .confirmReceipt: Self.receiptTemplates.contains(mail.template) && mail.shipmentID != nil
        }
        guard fits else { return .failure(.wrongPurpose) }
        return .success(Target(token: token, text: text, mail: mail, customer: customer, chain: customer.locale.fallbackChain))
    }

    // MARK: Pages

    func base(_ target: Target?) -> PageContext {
        var context = PageContext()
        context.companyName = companyName
        guard let target else { return context }
        context.action = "/\(target.token.purpose.pathSegment)/\(target.text)"
        context.orderID = target.mail.orderID ?? ""
        context.complaintID = target.mail.complaintID ?? ""
        context.shipmentID = target.mail.shipmentID ?? ""
        context.marketing = target.customer.acceptsMarketing
        return context
    }

    /// The language the preferences page shows as chosen: the first of the buyer's locale chain it offers.
    static func pageLanguage(_ customer: LinkedCustomer) -> String {
        customer.locale.fallbackChain.first { tag in PageRenderer.languages.contains { $0.tag == tag } } ?? "en"
    }

    func render(_ page: PageRenderer.Page, status: Int = 200, chain: [String], _ context: PageContext) -> Reply {
        do {
            return Reply(status: status, page: try pages.render(page, chain: chain, context: context))
        } catch {
            // A broken override template: a plain page, never a crash.
            let html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><p>This page cannot be shown now.</p></body></html>"
            return Reply(status: 500, page: RenderedPage(html: html, styleHashes: []))
        }
    }

    func page(_ page: PageRenderer.Page, _ target: Target) -> Reply {
        var context = base(target)
        // The choice of languages: only the preferences page has it (templates/CONTRACT.md, "Pages").
        if page == .preferences {
            let current = Self.pageLanguage(target.customer)
            context.languages = PageRenderer.languages.map { PageContext.Choice(value: $0.tag, label: $0.name, checked: $0.tag == current) }
        }
        return render(page, chain: target.chain, context)
    }

    func done(_ what: String, already: Bool, _ target: Target) -> Reply {
        var context = base(target)
        context.done = what
        context.already = already
        return render(.done, chain: target.chain, context)
    }

    func invalid(expired: Bool, languages: [String]) -> Reply {
        var context = base(nil)
        context.expired = expired
        return render(.invalid, status: expired ? 410 : 404, chain: languages + ["en"], context)
    }

    func failure(_ detail: String, _ target: Target, status: Int = 400) -> Reply {
        var context = base(target)
        context.detail = detail
        return render(.error, status: status, chain: target.chain, context)
    }

    /// A score given in a link or a form: a whole number in `range`.
    static func score(_ raw: String?, in range: ClosedRange<Int>, field: String = "score") throws(InvalidInput) -> Int? {
        guard let raw, !raw.isEmpty else { return nil }
        guard raw.count <= 3, let value = Int(raw), range.contains(value) else {
            throw InvalidInput(field: field, value: String(raw.prefix(20)), problem: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The form's `score`, which must be given.
    static func requiredScore(_ form: [String: [String]], in range: ClosedRange<Int>) throws(InvalidInput) -> Int {
        guard let value = try score(form["score"]?.last, in: range) else {
            throw InvalidInput(field: "score", value: "", problem: "choose one from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    // MARK: Survey

    func surveyPage(_ target: Target, query: [String: String]) throws -> Reply {
        let orderID = target.mail.orderID ?? ""
        let previous = try store.orderDetail(id: orderID).survey
        let chosen: Int?
        do { chosen = try Self.score(query["score"], in: 0...10) ?? previous?.score } catch { return failure(error.description, target) }
        var context = base(target)
        context.scores = (0...10).map { PageContext.Choice(value: String($0), label: String($0), checked: $0 == chosen) }
        let liked = Set(previous?.liked ?? [])
        context.likedLogistics = liked.contains(.logistics)
        context.likedSupport = liked.contains(.support)
        context.likedQuality = liked.contains(.quality)
        context.intentYes = previous?.intent == .yes
        context.intentNo = previous?.intent == .no
        context.intentUnsure = previous?.intent == .unsure
        context.reason = previous?.reason ?? ""
        return render(.survey, chain: target.chain, context)
    }

    func recordSurvey(_ target: Target, form: [String: [String]], now: Date) throws -> Reply {
        let answer: SurveyAnswer
        do { answer = try Self.surveyAnswer(form, orderID: target.mail.orderID ?? "", at: now) } catch {
            return failure(error.description, target)
        }
        let (_, changed) = try store.answerSurvey(answer, now: now)
        return done("survey", already: !changed, target)
    }

    /// The survey form's answer: a score of 0-10, what pleased most, buying again, why.
    static func surveyAnswer(_ form: [String: [String]], orderID: String, at now: Date) throws(InvalidInput) -> SurveyAnswer {
        let score = try requiredScore(form, in: 0...10)
        var liked: [ServiceAspect] = []
        for raw in form["liked"] ?? [] {
            let aspect = try ServiceAspect(parsing: raw)
            if !liked.contains(aspect) { liked.append(aspect) }
        }
        var intent: RepurchaseIntent?
        if let raw = form["intent"]?.last, !raw.isEmpty { intent = try RepurchaseIntent(parsing: raw) }
        let reason = form["reason"]?.last.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        return SurveyAnswer(orderID: orderID, score: score, reason: reason, liked: ServiceAspect.allCases.filter(liked.contains),
                            intent: intent, answeredAt: now)
    }

    // MARK: Rating

    func ratingPage(_ target: Target, query: [String: String]) throws -> Reply {
        let chosen: Int?
        do { chosen = try Self.score(query["score"], in: 1...5) } catch { return failure(error.description, target) }
        var context = base(target)
        context.ratings = (1...5).map { PageContext.Choice(value: String($0), label: String($0), checked: $0 == chosen) }
        return render(.rating, chain: target.chain, context)
    }

    func recordRating(_ target: Target, form: [String: [String]], now: Date) throws -> Reply {
        let score: Int
        do {
            score = try Self.requiredScore(form, in: 1...5)
        } catch {
            return failure(error.description, target)
        }
        let id = target.mail.complaintID ?? ""
        if try store.complaintRated(id: id) { return done("rating", already: true, target) }
        do {
            _ = try store.advanceComplaint(id: id, .rate(score), at: now, now: now)
        } catch {
            // Rated by a request at the same moment.
            guard case .conflict = error, (try? store.complaintRated(id: id)) == true else { throw error }
            return done("rating", already: true, target)
        }
        return done("rating", already: false, target)
    }

    // MARK: Receipt

    func confirmReceipt(_ target: Target, now: Date) throws -> Reply {
        let id = target.mail.shipmentID ?? ""
        func delivered() throws -> Bool { try store.shipment(id: id).events.contains { $0.kind == .delivered } }
        if try delivered() { return done("receipt", already: true, target) }
        do {
            _ = try store.recordShipmentEvent(ShipmentEvent(shipmentID: id, kind: .delivered, at: now, note: "confirmed by the buyer"), now: now)
        } catch {
            // Delivered by a request (or ops) at the same moment.
            guard case .invalid = error, (try? delivered()) == true else { throw error }
            return done("receipt", already: true, target)
        }
        return done("receipt", already: false, target)
    }

    // MARK: Preferences

    func recordPreferences(_ target: Target, form: [String: [String]], now: Date) throws -> Reply {
        // The language shown as chosen keeps the buyer's own tag (es-MX stays es-MX when Español is kept).
        let shown = Self.pageLanguage(target.customer)
        var locale = form["locale"]?.last ?? shown
        if locale == shown { locale = target.customer.locale.value }
        guard PageRenderer.languages.contains(where: { $0.tag == locale }) || locale == target.customer.locale.value else {
            return failure(InvalidInput(field: "locale", value: String(locale.prefix(20)), problem: "expected one of "
                                        + PageRenderer.languages.map(\.tag).joined(separator: ", ")).description, target)
        }
        let marketing: Bool
        switch form["marketing"]?.last {
        case "on", "yes", "true": marketing = true
        case nil, "off", "no", "false", "": marketing = false
        case let other?: return failure(InvalidInput(field: "marketing", value: String(other.prefix(20)), problem: "expected on or off").description, target)
        }
        let (_, changed) = try store.setPreferences(customerID: target.customer.id, locale: locale, marketing: marketing, at: now, now: now)
        var updated = target
        updated.chain = (try? LocaleTag(locale))?.fallbackChain ?? target.chain
        return done("preferences", already: !changed, updated)
    }
}
