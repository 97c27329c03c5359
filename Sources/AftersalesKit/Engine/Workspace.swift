import AftersalesDomain
import Foundation
import Logging

/// Where a command works: the database path, the configuration and the instant taken as now.
public struct Settings: Sendable {
    public init(databasePath: String, configPath: String?, now: Date, environment: [String: String], templatesPath: String? = nil) {
        self.databasePath = databasePath
        self.configPath = configPath
        self.now = now
        self.environment = environment
        self.templatesPath = templatesPath
    }

    public var databasePath: String
    /// The configuration file to read, or nil for none.
    public var configPath: String?
    /// The clock: every command uses this instant as now.
    public var now: Date
    public var environment: [String: String]
    /// The built-in templates directory, if found.
    public var templatesPath: String?

    /// Resolves the global options: an explicit value, else its `AFTERSALES_*` variable, else the default.
    /// `clock` is asked only when neither `--now` nor `AFTERSALES_NOW` is given.
    public static func resolve(db: String?, config: String?, now: Date?, environment: [String: String],
                               executable: String? = nil, clock: () -> Date) throws(AftersalesError) -> Settings {
        let path = db ?? environment["AFTERSALES_DB"] ?? "./aftersales.db"
        guard !path.isEmpty else { throw .invalid(InvalidInput(field: "db", value: path, problem: "expected a file path")) }
        var configPath = config ?? environment["AFTERSALES_CONFIG"]
        if configPath?.isEmpty == true { configPath = nil }
        if configPath == nil, FileManager.default.fileExists(atPath: "./aftersales.yml") { configPath = "./aftersales.yml" }
        let instant: Date
        if let now {
            instant = now
        } else if let text = environment["AFTERSALES_NOW"], !text.isEmpty {
            instant = try AftersalesError.checked { () throws(InvalidInput) in try Timestamp.parse(text, field: "now") }
        } else {
            instant = clock()
        }
        return Settings(databasePath: path, configPath: configPath, now: instant, environment: environment,
                        templatesPath: builtInTemplates(executable: executable, environment: environment))
    }

    /// `--at` when given, else now.
    public func instant(_ at: Date?) -> Date { at ?? now }
}

/// An open store with its configuration: what every command works on.
public struct Workspace: Sendable {
    public let settings: Settings
    public let configuration: Configuration
    public let store: AftersalesStore
    public let logger: Logger
    /// The send pipeline's clock (its rate limiter and commit timer): the real one but in tests.
    var sendClock: any SendClock = SystemSendClock()

    public var now: Date { settings.now }

    /// Loads the configuration and opens the database.
    public static func open(_ settings: Settings, access: AftersalesStore.Access, logger: Logger = Logger(label: "aftersales")) throws(AftersalesError) -> Workspace {
        let configuration = try Configuration.load(path: settings.configPath, environment: settings.environment)
        let store = try AftersalesStore.open(path: settings.databasePath, access: access)
        return Workspace(settings: settings, configuration: configuration, store: store, logger: logger)
    }
}
