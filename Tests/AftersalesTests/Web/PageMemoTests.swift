@testable import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// The page memo: a page is rendered once for the values its templates look up, and only those.
@Suite("serve: page memo")
struct PageMemoTests {
    static let head = "<!DOCTYPE html><html lang=\"{{lang}}\" dir=\"{{dir}}\"><head><title>{{company.name}}</title><style>p{}</style></head><body>"

    func pages(done: String) throws -> PageRenderer {
        try PageRenderer(templates: TemplateStore(texts: ["en": [
            "page-head": Self.head, "page-foot": "</body></html>",
            "page-done": "{{> page-head}}{{#done_unsubscribe}}<p>Unsubscribed</p>{{/done_unsubscribe}}" + done + "{{> page-foot}}",
            "page-survey": "{{> page-head}}<form action=\"{{action}}\">{{#scores}}<input value=\"{{value}}\">{{/scores}}</form>{{> page-foot}}",
        ]]))
    }

    func context(action: String, company: String = "Acme", done: String = "unsubscribe") -> PageContext {
        var context = PageContext()
        context.action = action
        context.companyName = company
        context.done = done
        context.orderID = action
        return context
    }

    @Test("each <style> block's CSP hash is the SHA-256 of exactly its text (values from Python's hashlib)")
    func styleHashes() {
        let html = "<head><style>body{margin:0}</style></head><body><style>\n  p { color: #333 }\n</style><p>x</p></body>"
        #expect(PageRenderer.styleHashes(html) == ["'sha256-IAdwN3biDCQ3brrgp1m8kBEsPQYyqfREKOEfeoREopc='",
                                                  "'sha256-+r4AsUel4Ofak6PdToP4p+EVQVyODAIr+UYF0hOx/EI='"])
        #expect(PageRenderer.styleHashes("<p>no style</p><style>unclosed").isEmpty)
    }

    @Test("a page that does not look up the link renders once for every link")
    func sameValues() throws {
        let pages = try pages(done: "")
        let first = try pages.render(.done, chain: ["en"], context: context(action: "/u/A"))
        let second = try pages.render(.done, chain: ["en"], context: context(action: "/u/B"))
        #expect(first.html == second.html && first.styleHashes == second.styleHashes && first.styleHashes.count == 1)
        #expect(pages.memo.pages.hits == 1)
        #expect(first.html.contains("<title>Acme</title>") && first.html.contains("<p>Unsubscribed</p>"))
    }

    @Test("any value the page looks up makes another page")
    func otherValues() throws {
        let pages = try pages(done: "<p>{{order_id}}</p>")
        let a = try pages.render(.done, chain: ["en"], context: context(action: "/u/A"))
        let b = try pages.render(.done, chain: ["en"], context: context(action: "/u/B"))
        #expect(a.html.contains("<p>/u/A</p>") && b.html.contains("<p>/u/B</p>"))
        let other = try pages.render(.done, chain: ["en"], context: context(action: "/u/A", company: "Other"))
        #expect(other.html.contains("<title>Other</title>"))
        let survey = try pages.render(.done, chain: ["en"], context: context(action: "/u/A", done: "survey"))
        #expect(!survey.html.contains("Unsubscribed"))
        #expect(pages.memo.pages.hits == 0)
        _ = try pages.render(.done, chain: ["en"], context: context(action: "/u/A"))
        #expect(pages.memo.pages.hits == 1)
    }

    @Test("a page with a list is rendered every time")
    func lists() throws {
        let pages = try pages(done: "")
        var context = context(action: "/s/A")
        context.scores = [PageContext.Choice(value: "7", label: "7", checked: true)]
        let first = try pages.render(.survey, chain: ["en"], context: context)
        context.scores[0].value = "8"
        let second = try pages.render(.survey, chain: ["en"], context: context)
        #expect(first.html.contains("value=\"7\"") && second.html.contains("value=\"8\""))
        #expect(pages.memo.pages.hits == 0)
    }

    @Test("a missing variable is still an error on every render")
    func strict() throws {
        let pages = try pages(done: "{{no_such_name}}")
        for _ in 0..<2 {
            #expect(throws: TemplateStore.Problem.self) { try pages.render(.done, chain: ["en"], context: context(action: "/u/A")) }
        }
    }

    @Test("the names a template looks up are read from its tags, or it is opaque")
    func tags() {
        let tags = TemplateStore.tags("{{a}} {{{ b }}} {{& c}} {{#d}}{{/d}} {{^e}}{{/e}} {{! note}} {{> part}} {{% PRAGMA }}")
        #expect(Set(tags.names) == ["a", "b", "c", "d", "e"] && tags.partials == ["part"] && !tags.opaque)
        for opaque in ["{{>*dynamic}}", "{{.}}", "{{uppercased(a)}}", "{{=<% %>=}}", "{{$block}}{{/block}}", "{{<parent}}{{/parent}}"] {
            #expect(TemplateStore.tags(opaque).opaque, "\(opaque)")
        }
    }
}
