import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process of the bench, run to its end: its status, output and wall time.
///
/// Started with `posix_spawn` and reaped with `waitpid`, not through Foundation's `Process`: on Linux
/// `Process.waitUntilExit` notices the child's exit on a 50 ms run-loop tick, which added about 50 ms
/// to every timed run on both sides of a ratio (`/bin/true`, 2.5 ms, measured 53 ms). `waitpid`
/// returns when the child exits.
struct Spawned {
    /// From the start to the exit.
    var seconds: Double
    /// The exit status, or 128 + the signal that ended it.
    var status: Int32
    var output: String
    var errors: String

    /// A started child, to be waited for.
    struct Child {
        let pid: pid_t
        let start: ContinuousClock.Instant
        let outputPath: String, errorsPath: String

        /// Waits for the child's exit and reads what it wrote.
        func wait() throws -> Spawned {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw ValidationError("waiting for process \(pid): \(String(cString: strerror(errno)))") }
            }
            let elapsed = ContinuousClock.now - start
            defer { for path in [outputPath, errorsPath] where path != "/dev/null" { unlink(path) } }
            let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return Spawned(seconds: elapsed.seconds,
                           status: code, output: read(outputPath), errors: read(errorsPath))
        }
    }

    /// Starts `executable` with `arguments` and the bench's environment plus `environment`; its output
    /// and errors go to files in `directory` (to /dev/null with `discardOutput`), its input comes from the
    /// file `input` (else /dev/null). With `session`, in a session of its own, as a daemon runs
    /// (POSIX_SPAWN_SETSID, glibc 2.26: the child calls setsid() before exec).
    static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil,
                      directory: String = NSTemporaryDirectory(), session: Bool = false, discardOutput: Bool = false) throws -> Child {
        let base = (directory as NSString).appendingPathComponent("spawned-\(getpid())-\(UUID().uuidString)")
        let outputPath = discardOutput ? "/dev/null" : base + ".out", errorsPath = discardOutput ? "/dev/null" : base + ".err"
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        clearSignals(&attributes, flags: session ? 0x80 : 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | (discardOutput ? 0 : O_CREAT | O_TRUNC), 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | (discardOutput ? 0 : O_CREAT | O_TRUNC), 0o600)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw ValidationError("could not start \(executable): \(String(cString: strerror(status)))") }
        return Child(pid: pid, start: start, outputPath: outputPath, errorsPath: errorsPath)
    }

    /// A child's signals as a daemon starts with them, whatever the bench runs with: none blocked (the
    /// harness may block most, and a child that cannot see SIGTERM never stops), default handlers;
    /// `flags` are added (such as POSIX_SPAWN_SETSID).
    static func clearSignals(_ attributes: inout posix_spawnattr_t, flags: Int32 = 0) {
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags))
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
