import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Postfix's smtp-sink (or another server of the bench, such as its delay proxy), started the way a
/// mail server runs: in a session of its own.
///
/// Linux's scheduler gives each session (autogroup) one share of the CPU. A sink started in the
/// benchmark's session shares that share with the senders it measures, so every extra thread of
/// a sender takes CPU from the server it waits for. A real server runs under its service manager,
/// in a session of its own. Foundation's `Process` cannot start a process in a new session
/// (`setsid` as a wrapper forks when it leads a process group, and the harness then loses it), so
/// this spawns with `POSIX_SPAWN_SETSID`.
struct SinkServer {
    /// The sink's process.
    let pid: pid_t

    /// Starts `executable` with `arguments` in a new session, its output discarded, and waits
    /// (at most 20 seconds) until it accepts connections on 127.0.0.1:`port`.
    static func start(executable: String, arguments: [String], environment: [String: String], port: Int) throws -> SinkServer {
        let pid = try spawnInSession(executable, arguments, environment: environment)
        let server = SinkServer(pid: pid)
        passInterrupts(to: pid, running: true)
        let deadline = ContinuousClock.now + .seconds(20)
        while !accepts(port: port) {
            var exit: Int32 = 0
            if waitpid(pid, &exit, WNOHANG) == pid {
                passInterrupts(to: pid, running: false)
                let how = exit & 0x7f == 0 ? "with status \((exit >> 8) & 0xff)" : "on signal \(exit & 0x7f)"
                throw ValidationError("\(executable) exited at start \(how); is port \(port) taken?")
            }
            guard ContinuousClock.now < deadline else {
                server.stop()
                throw ValidationError("\(executable) did not listen on 127.0.0.1:\(port) within 20 seconds")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return server
    }

    /// Starts `executable` in a session of its own (POSIX_SPAWN_SETSID, glibc 2.26), its output discarded,
    /// with the signals a daemon starts with whatever the bench runs with: none blocked, default handlers
    /// (a harness may ignore or block them, and a server that cannot see SIGTERM never stops).
    static func spawnInSession(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> pid_t {
        var attributes = posix_spawnattr_t(), actions = posix_spawn_file_actions_t()
        posix_spawnattr_init(&attributes)
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawnattr_destroy(&attributes); posix_spawn_file_actions_destroy(&actions) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | 0x80 /* POSIX_SPAWN_SETSID */))
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw ValidationError("could not start \(executable): \(String(cString: strerror(status)))") }
        return pid
    }

    /// Whether something accepts a TCP connection on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        withLoopbackSocket(port: port) { fd, address, length in connect(fd, address, length.pointee) == 0 } ?? false
    }

    /// A free TCP port on 127.0.0.1 (0 if none could be had).
    static func freePort() -> Int {
        withLoopbackSocket(port: 0) { fd, address, length in
            guard bind(fd, address, length.pointee) == 0, getsockname(fd, address, length) == 0 else { return 0 }
            return Int(UInt16(bigEndian: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }))
        } ?? 0
    }

    /// `body` with a new TCP socket and the address 127.0.0.1:`port` (closed after; nil without a socket).
    static func withLoopbackSocket<T>(port: Int, _ body: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> T) -> T? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, &length) }
        }
    }

    /// In a session of its own a server does not get the terminal's Ctrl-C: while one runs, an
    /// interrupted bench stops it before exiting. The signals are unblocked on this thread: a parent
    /// may have started the bench with them blocked.
    static func passInterrupts(to pid: pid_t, running: Bool) {
        let slots = UnsafeMutableBufferPointer(start: runningServers, count: runningServerSlots)
        if running, let free = slots.firstIndex(of: 0) { slots[free] = pid }
        if !running, let taken = slots.firstIndex(of: pid) { slots[taken] = 0 }
        let any = slots.contains { $0 != 0 }
        var interrupts = sigset_t()
        sigemptyset(&interrupts)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            sigaddset(&interrupts, signal)
            Glibc.signal(signal, any ? stopServersAndExit : SIG_DFL)
        }
        if any { pthread_sigmask(SIG_UNBLOCK, &interrupts, nil) }
    }

    /// Stops the sink and waits for it: SIGTERM, and SIGKILL if it is still there after 5 seconds.
    func stop() {
        Self.passInterrupts(to: pid, running: false)
        kill(pid, SIGTERM)
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(5)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                return
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
}

/// The servers to stop when the bench is interrupted (0: a free slot). Plain memory, set up before
/// any handler is installed, so that the handler reads it without locks or lazy initialization.
private let runningServerSlots = 4
nonisolated(unsafe) private let runningServers: UnsafeMutablePointer<pid_t> = {
    let slots = UnsafeMutablePointer<pid_t>.allocate(capacity: runningServerSlots)
    slots.initialize(repeating: 0, count: runningServerSlots)
    return slots
}()

/// Interrupted: stops the servers and exits as the signal would have (only async-signal-safe calls).
private let stopServersAndExit: @convention(c) (Int32) -> Void = { signal in
    for slot in 0..<runningServerSlots where runningServers[slot] > 0 { kill(runningServers[slot], SIGTERM) }
    _exit(128 + signal)
}
