import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// An old configuration with `company.unsubscribe_url` (removed when links came) is told what to use instead.
@Suite("serve: a removed configuration key names its replacement")
struct RemovedKeyTests {
    static let advice = "company.unsubscribe_url was removed; the unsubscribe link is now signed and answered by `aftersales serve`: "
        + "set links.base_url (e.g. https://after.example.com) and a secret (AFTERSALES_LINK_SECRET or links.secret_file), "
        + "see \"The buyer's answers: serve\" in README.md"

    @Test("Configuration.load names links.base_url and the secret, not a bare unknown key")
    func load() throws {
        let scratch = try ScratchDirectory("aftersales-removed-key")
        let path = scratch.url.appendingPathComponent("aftersales.yml").path
        try "company:\n  name: Example Export Co.\n  unsubscribe_url: https://example.com/unsubscribe\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AftersalesError.configuration("config \"\(path)\": " + Self.advice)) {
            try Configuration.load(path: path, environment: [:])
        }
        // Other unknown keys keep the plain message.
        try "company:\n  unsubscribe_link: x\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AftersalesError.configuration("config \"\(path)\": unknown key \"company.unsubscribe_link\"; see the configuration reference in README.md")) {
            try Configuration.load(path: path, environment: [:])
        }
    }

    @Test("the CLI exits 64 with that one line and writes nothing")
    func cli() throws {
        let cli = try CLI()
        let path = cli.directory.appendingPathComponent("old.yml").path
        try "company:\n  unsubscribe_url: https://example.com/unsubscribe\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try cli.run(["customer", "list", "--config", path])
        #expect(result.code == 64)
        #expect(result.stderr.contains(Self.advice), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(cli.databaseBytes() == nil, "nothing written")
    }
}
