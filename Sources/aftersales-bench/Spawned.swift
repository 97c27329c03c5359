import ArgumentParser
import Foundation

/// A child process of the bench, run to its end through Foundation's `Process`: its status, output and wall time.
struct Spawned {
    /// From the start to the exit.
    var seconds: Double
    /// The exit status, or 128 + the signal that ended it.
    var status: Int32
    var output: String
    var errors: String

    /// A started child, to be waited for.
    struct Child {
        let process: Process
        let start: ContinuousClock.Instant
        /// Signalled by the process's termination handler. `waitUntilExit` notices an exit on a 50 ms
        /// run-loop tick on Linux, which added about 50 ms to every timed run; the handler does not.
        let exited: DispatchSemaphore
        let outputURL: URL, errorsURL: URL

        /// Waits for the child's exit and reads what it wrote.
        func wait() -> Spawned {
            exited.wait()
            let elapsed = ContinuousClock.now - start
            defer { for url in [outputURL, errorsURL] { try? FileManager.default.removeItem(at: url) } }
            let read = { (url: URL) in String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self) }
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            return Spawned(seconds: elapsed.seconds, status: status, output: read(outputURL), errors: read(errorsURL))
        }
    }

    /// Starts `executable` with `arguments` and the bench's environment plus `environment`; its output
    /// and errors go to files in `directory`, its input comes from the file `input` (else /dev/null).
    static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                      directory: String = NSTemporaryDirectory()) throws -> Child {
        let base = URL(fileURLWithPath: directory).appendingPathComponent("spawned-\(getpid())-\(UUID().uuidString)")
        let outputURL = base.appendingPathExtension("out"), errorsURL = base.appendingPathExtension("err")
        for url in [outputURL, errorsURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: input ?? "/dev/null"))
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let start = ContinuousClock.now
        do { try process.run() } catch { throw ValidationError("could not start \(executable): \(error.localizedDescription)") }
        return Child(process: process, start: start, exited: exited, outputURL: outputURL, errorsURL: errorsURL)
    }

    /// Runs `executable` to its end (see ``start(_:_:environment:input:directory:)``).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                    directory: String = NSTemporaryDirectory()) throws -> Spawned {
        try start(executable, arguments, environment: environment, input: input, directory: directory).wait()
    }
}

extension Duration {
    /// The duration in seconds, for the bench's figures.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
