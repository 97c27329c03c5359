import AftersalesDomain
@testable import AftersalesKit
import Foundation
import GRDB

/// Fixed instants for tests.
func t(_ text: String) -> Date { try! Timestamp.parse(text, field: "test") }

/// A store on an in-memory database, with one customer, two products and one order.
func seededStore(now: Date = t("2026-11-23T10:00:00Z")) throws -> AftersalesStore {
    let store = try AftersalesStore(writer: DatabaseQueue())
    _ = try store.addCustomer(id: "C1", CustomerChanges(name: "Lucía Hernández", email: "lucia@ferrenorte.mx", locale: "es-MX",
                                                        timeZone: "America/Mexico_City", country: "MX", consent: true), now: now)
    _ = try store.addProduct(sku: "P1", ProductChanges(name: "Pump", technical: true, maintenanceDays: 90, maintenanceText: "Lubricate"), now: now)
    _ = try store.addProduct(sku: "P2", ProductChanges(name: "Valve", cycleDays: 90), now: now)
    _ = try store.addOrder(id: "O1", customerID: "C1", lines: [OrderLine(sku: "P1", quantity: 2, unitPriceMinor: 12900)],
                           currency: "USD", at: t("2026-11-01T00:00:00Z"), now: now)
    return store
}

/// A fresh directory under the system's temporary directory, removed with everything in it
/// when the last value holding it goes away, so that tests leave nothing behind.
final class ScratchDirectory: Sendable {
    let url: URL

    init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs the built `aftersales` binary.
struct CLI: Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        for candidate in [".build/debug/aftersales", ".build/x86_64-unknown-linux-gnu/debug/aftersales", ".build/aarch64-unknown-linux-gnu/debug/aftersales"] {
            let url = packageRoot.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/aftersales")
    }

    struct Result: Sendable {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    private let scratch: ScratchDirectory
    var directory: URL { scratch.url }
    var environment: [String: String]

    /// A fresh working directory with its own database path and a fixed clock.
    init(now: String = "2026-11-23T10:00:00Z") throws {
        scratch = try ScratchDirectory("aftersales-cli")
        environment = ["AFTERSALES_DB": scratch.url.appendingPathComponent("test.db").path, "AFTERSALES_NOW": now,
                       "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    var databasePath: String { environment["AFTERSALES_DB"]! }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(code: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Adds the usual customer, product and order.
    func seed() throws {
        for args in [
            ["customer", "add", "--id", "C1", "--name", "Lucía", "--email", "lucia@ferrenorte.mx", "--locale", "es-MX",
             "--timezone", "America/Mexico_City", "--country", "MX"],
            ["product", "add", "--sku", "P1", "--name", "Pump", "--technical"],
            ["order", "add", "--id", "O1", "--customer", "C1", "--line", "P1:2:12900", "--at", "2026-11-01T00:00:00Z"],
        ] {
            let result = try run(args)
            precondition(result.code == 0, "seed failed: \(args) \(result.stderr)")
        }
    }

    func databaseBytes() -> Data? { FileManager.default.contents(atPath: databasePath) }
}
