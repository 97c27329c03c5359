import Foundation

/// The files of a throw-away Dovecot (Debian's dovecot-imapd) on 127.0.0.1, for the tests and the bench:
/// its own configuration, a passwd-file user, a Maildir in `directory` owned by the `mail` user (Dovecot
/// refuses to give mail to uid 0) and a self-signed certificate for STARTTLS and IMAPS. Starting and
/// stopping the server is the caller's: `dovecot -F -c <configPath>`, with no blocked signals.
public struct LoopbackDovecot: Sendable {
    public static let executable = "/usr/sbin/dovecot"
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public let directory: URL
    public let imapPort: Int
    public let imapsPort: Int
    public let user: String
    /// The server's certificate (its own CA file).
    public var certificate: String { directory.appendingPathComponent("cert.pem").path }
    public var configPath: String { directory.appendingPathComponent("dovecot.conf").path }
    public var maildir: URL { directory.appendingPathComponent("home/\(user)/Maildir") }

    /// Writes the configuration, the passwd file, the Maildir and the certificate into `directory`
    /// (which, with its parents, must be traversable by `mail`: a folder in /tmp is).
    public init(directory: URL, imapPort: Int, imapsPort: Int, user: String = "buyer", password: String = "secret") throws {
        self.directory = directory
        self.imapPort = imapPort
        self.imapsPort = imapsPort
        self.user = user
        let fm = FileManager.default
        for sub in ["home/\(user)/Maildir/new", "home/\(user)/Maildir/cur", "home/\(user)/Maildir/tmp", "run", "state"] {
            try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let d = directory.path
        try Self.run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/key.pem", "-out", d + "/cert.pem",
                                      "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        try "\(user):{PLAIN}\(password)\n".write(toFile: d + "/passwd", atomically: true, encoding: .utf8)
        try """
            first_valid_uid = 8
            first_valid_gid = 8
            protocols = imap
            listen = 127.0.0.1
            base_dir = \(d)/run
            state_dir = \(d)/state
            log_path = \(d)/dovecot.log
            ssl = yes
            ssl_cert = <\(d)/cert.pem
            ssl_key = <\(d)/key.pem
            disable_plaintext_auth = yes
            auth_mechanisms = plain
            auth_failure_delay = 0
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(d)/passwd
            }
            userdb {
              driver = static
              args = uid=mail gid=mail home=\(d)/home/%u
            }
            mail_location = maildir:~/Maildir
            namespace inbox {
              inbox = yes
              separator = /
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = \(imapPort)
              }
              inet_listener imaps {
                address = 127.0.0.1
                port = \(imapsPort)
                ssl = yes
              }
              chroot =
            }

            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        try Self.run("/bin/chmod", ["-R", "a+rX", d])
        try Self.run("/bin/chown", ["-R", "mail:mail", d + "/home"])
    }

    /// Puts a message into the inbox directly (a file in new/, owned by `mail`), received at `at`.
    public func deliver(_ bytes: Data, name: String, at: Date) throws {
        let file = maildir.appendingPathComponent("new/\(name)")
        try bytes.write(to: file)
        try FileManager.default.setAttributes([.modificationDate: at], ofItemAtPath: file.path)
        try Self.run("/bin/chown", ["mail:mail", file.path])
    }

    /// The files of a Maildir folder (`""`: the inbox), new and cur.
    public func files(_ folder: String = "") -> [String] {
        let base = folder.isEmpty ? maildir : maildir.appendingPathComponent("." + folder.replacingOccurrences(of: "/", with: "."))
        return ["new", "cur"].flatMap { (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent($0).path)) ?? [] }
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus))"])
        }
    }
}
