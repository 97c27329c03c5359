import AftersalesDomain
import Foundation

/// What one check of `aftersales doctor` found.
public struct DoctorFinding: Sendable, Hashable, Encodable {
    public enum Verdict: String, Sendable, Hashable, Encodable { case pass, fail, skip }
    public var check: String
    public var verdict: Verdict
    /// What was found.
    public var detail: String
    /// How to fix a failure.
    public var fix: String?
}

/// One check of `aftersales doctor`: a name and what it looks at. Checks are values: an issue that
/// adds a dependency (an IMAP login, a link secret) adds one line to ``Doctor/checks``.
public struct DoctorCheck: Sendable {
    public var name: String
    public var run: @Sendable (Doctor.Context) -> DoctorFinding

    /// A check from a body that returns what passed, or throws a ``Doctor/Problem`` with its fix.
    public init(_ name: String, _ body: @escaping @Sendable (Doctor.Context) throws(Doctor.Problem) -> String) {
        self.name = name
        run = { context in
            do throws(Doctor.Problem) {
                return DoctorFinding(check: name, verdict: .pass, detail: try body(context), fix: nil)
            } catch {
                return DoctorFinding(check: name, verdict: error.skipped ? .skip : .fail, detail: error.detail, fix: error.fix)
            }
        }
    }
}

/// `aftersales doctor`: every check, one finding each.
public enum Doctor {
    /// What the checks look at: the settings and the configuration as it loaded (or why it did not).
    public struct Context: Sendable {
        public var settings: Settings
        public var configuration: Result<Configuration, AftersalesError>

        /// The configuration, or a skip when it did not load (its own check reports why).
        public func loaded() throws(Problem) -> Configuration {
            switch configuration {
            case .success(let configuration): return configuration
            case .failure: throw Problem(skipped: true, detail: "the configuration does not load", fix: nil)
            }
        }
    }

    /// A failed (or skipped) check.
    public struct Problem: Error, Sendable {
        public var skipped = false
        public var detail: String
        public var fix: String?
        public init(skipped: Bool = false, detail: String, fix: String?) {
            self.skipped = skipped
            self.detail = detail
            self.fix = fix
        }
    }

    /// Free space the disk under the database must have, in bytes (a full send archives megabytes).
    public static let minimumFreeBytes: Int64 = 100 * 1024 * 1024

    /// Every check, in the order printed.
    public static let checks: [DoctorCheck] = [configurationCheck, templatesCheck, databaseCheck, smtpCheck, imapCheck, linksCheck, diskCheck]

    /// Runs `checks` (all by default) in order.
    public static func run(_ settings: Settings, checks: [DoctorCheck] = Doctor.checks) -> [DoctorFinding] {
        let configuration = Result { () throws(AftersalesError) in try Configuration.load(path: settings.configPath, environment: settings.environment) }
        let context = Context(settings: settings, configuration: configuration)
        return checks.map { $0.run(context) }
    }

    static let configurationCheck = DoctorCheck("configuration") { context throws(Problem) in
        switch context.configuration {
        case .success: return "parses (\(context.settings.configPath ?? "no file: the defaults"))"
        case .failure(let error): throw Problem(detail: error.description, fix: "correct the key named above in the configuration file or its AFTERSALES_* variable")
        }
    }

    static let templatesCheck = DoctorCheck("templates") { context throws(Problem) in
        _ = try context.loaded()
        let report: TemplateCheckReport
        do throws(AftersalesError) { report = try Workspace.checkTemplates(context.settings) } catch {
            throw Problem(detail: error.description, fix: "set AFTERSALES_TEMPLATES or templates.dir to a templates directory")
        }
        guard report.problems.isEmpty else {
            throw Problem(detail: "\(report.problems.count) problem(s), first: \(report.problems[0])",
                          fix: "run `aftersales templates check` and correct each template it names")
        }
        return "\(report.rendered) renderings in \(report.locales.count) locales pass"
    }

    static let databaseCheck = DoctorCheck("database") { context throws(Problem) in
        let path = context.settings.databasePath
        let health: DatabaseHealth
        do throws(AftersalesError) { health = try AftersalesStore.health(path: path) } catch {
            throw Problem(detail: error.description, fix: "point --db (AFTERSALES_DB) at the aftersales database, or restore it from a backup")
        }
        guard health.quickCheck == "ok" else {
            throw Problem(detail: "quick_check: \(health.quickCheck)", fix: "restore the database from a backup (see `aftersales backup`)")
        }
        guard health.pendingMigrations == 0 else {
            throw Problem(detail: "\(health.pendingMigrations) schema migration(s) pending",
                          fix: "run `aftersales plan` once to migrate the database to this version's schema")
        }
        return "\(path): quick_check ok, schema current"
    }

    static let smtpCheck = DoctorCheck("smtp") { context throws(Problem) in
        let configuration = try context.loaded()
        guard configuration.transport.kind == .smtp else {
            throw Problem(skipped: true, detail: "transport.kind is \(configuration.transport.kind.rawValue)", fix: nil)
        }
        let transport: any MailTransport
        do throws(AftersalesError) {
            transport = try Workspace.transport(kind: "smtp", configuration: configuration)
        } catch {
            throw Problem(detail: error.description, fix: "correct the smtp.* settings")
        }
        guard let smtp = transport as? CurlSMTPTransport else { return "not libcurl SMTP" }
        if let failure = smtp.probe() {
            throw Problem(detail: "\(configuration.smtp.url): \(failure)",
                          fix: "check smtp.url, smtp.tls, smtp.user and the password (AFTERSALES_SMTP_PASSWORD or smtp.password_file), and that the server is up")
        }
        let login = configuration.smtp.user.isEmpty ? "no AUTH configured" : "AUTH as \(configuration.smtp.user)"
        return "\(configuration.smtp.url): EHLO, \(configuration.smtp.tls == .none ? "no TLS" : "TLS") and \(login) pass; no mail sent"
    }

    /// Issue 19: the reply mailbox's login (a STATUS of the mailbox; nothing is read or moved).
    static let imapCheck = DoctorCheck("imap") { context throws(Problem) in
        let configuration = try context.loaded()
        guard let transport = CurlIMAPTransport(configuration: configuration) else {
            throw Problem(skipped: true, detail: "imap.url is not set: bounces and replies are not read", fix: nil)
        }
        let session = transport.openSession()
        defer { session.close() }
        do throws(MailboxError) {
            let status = try session.status()
            return "\(configuration.imap.url): login as \(configuration.imap.user) works, \(status.mailbox) has UIDNEXT \(status.uidNext)"
        } catch {
            throw Problem(detail: "\(configuration.imap.url): \(error)",
                          fix: "check imap.url, imap.tls, imap.user and the password (AFTERSALES_IMAP_PASSWORD or imap.password_file), and that the server is up")
        }
    }

    /// Issue 18: mail carries signed links only with `links.base_url` and a secret; a base URL without one
    /// means the links are silently off.
    static let linksCheck = DoctorCheck("links") { context throws(Problem) in
        let links = try context.loaded().links
        guard !links.baseURL.isEmpty else {
            throw Problem(skipped: true, detail: "links.base_url is not set: mail carries no signed links", fix: nil)
        }
        guard links.on else {
            throw Problem(detail: links.offReason ?? "no usable link secret",
                          fix: "set AFTERSALES_LINK_SECRET or links.secret_file (at least \(LinkKeys.minimumLength) bytes), or unset links.base_url")
        }
        return "\(links.baseURL): \(links.secrets.count) secret(s) loaded"
    }

    static let diskCheck = DoctorCheck("disk") { context throws(Problem) in
        let directory = (context.settings.databasePath as NSString).deletingLastPathComponent
        let path = directory.isEmpty ? "." : directory
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: path),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else {
            throw Problem(detail: "cannot read the free space under \(path)", fix: "check that the database's directory exists")
        }
        let text = ByteCountFormatter.string(fromByteCount: free, countStyle: .file)
        guard free >= minimumFreeBytes else {
            throw Problem(detail: "\(text) free under \(path)", fix: "free space on that disk (at least 100 MB) or move the database")
        }
        return "\(text) free under \(path)"
    }
}
