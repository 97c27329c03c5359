import AftersalesDomain
@testable import AftersalesKit
import Foundation
import Testing

/// `AFTERSALES_COMPANY_UNSUBSCRIBE_URL`, the variable of the removed `company.unsubscribe_url`, is refused
/// with the key's advice, not silently ignored.
@Suite("Configuration: a removed key's environment variable names its replacement")
struct RemovedVariableTests {
    static let line = "environment: AFTERSALES_COMPANY_UNSUBSCRIBE_URL (company.unsubscribe_url) was removed; "
        + "the unsubscribe link is now signed and answered by `aftersales serve`: set links.base_url (e.g. https://after.example.com) "
        + "and a secret (AFTERSALES_LINK_SECRET or links.secret_file), see \"The buyer's answers: serve\" in README.md; "
        + "unset AFTERSALES_COMPANY_UNSUBSCRIBE_URL"

    @Test("Configuration.load names the variable, links.base_url and the secret; other unknown AFTERSALES_* variables are left alone as before")
    func load() throws {
        #expect(throws: AftersalesError.configuration(Self.line)) {
            try Configuration.load(path: nil, environment: ["AFTERSALES_COMPANY_UNSUBSCRIBE_URL": "https://example.com/unsubscribe"])
        }
        #expect(throws: AftersalesError.configuration(Self.line)) {
            try Configuration.load(path: nil, environment: ["AFTERSALES_COMPANY_UNSUBSCRIBE_URL": ""])
        }
        let other = try Configuration.load(path: nil, environment: ["AFTERSALES_COMPANY_UNSUBSCRIBE_LINK": "x", "AFTERSALES_COMPANY_NAME": "Shenzhen Pumps"])
        #expect(other.company.name == "Shenzhen Pumps")
    }

    @Test("the CLI exits 64 with that one line and writes nothing")
    func cli() throws {
        var cli = try CLI()
        cli.environment["AFTERSALES_COMPANY_UNSUBSCRIBE_URL"] = "https://example.com/unsubscribe"
        let result = try cli.run(["customer", "list"])
        #expect(result.code == 64)
        #expect(result.stderr.contains(Self.line), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(cli.databaseBytes() == nil, "nothing written")
    }
}
