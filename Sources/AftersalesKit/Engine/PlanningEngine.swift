import AftersalesDomain
import AftersalesPlanning
import Crypto
import Foundation

/// A mail as `preview` and `outbox list` show it: the mail (as planned, or as stored), its status
/// and reason, and the locale and subject it is written in.
public struct MailView: Sendable, Hashable, Encodable {
    public var mail: PlannedMail
    public var status: OutboxStatus
    public var reason: String?
    /// The template locale the mail is written in (the first of the recipient's locale chain that has
    /// the rule's templates); the recipient's locale when the templates are not at hand.
    public var locale: String
    /// The subject in the recipient's language (nil when it cannot be rendered).
    public var subject: String?

    public init(_ mail: PlannedMail, status: OutboxStatus, reason: String?) {
        self.mail = mail
        self.status = status
        self.reason = reason
        locale = mail.locale
    }

    /// An outbox entry as stored.
    public init(_ entry: OutboxEntry) {
        self.init(entry.mail, status: entry.status, reason: entry.reason)
    }

    public var key: String { mail.key }
    public var rule: String { mail.rule }
    public var stream: MailStream { mail.stream }
    public var customer: String { mail.customerID }
    public var order: String? { mail.orderID }
    public var to: [String] { mail.to }
    public var cc: [String] { mail.cc }
    /// ISO 8601 UTC.
    public var due: String { Timestamp.utc(mail.due) }
    /// ISO 8601 with the recipient's offset.
    public var local_due: String { Timestamp.local(mail.due, in: TimeZone(identifier: mail.timeZone) ?? TimeZone(identifier: "UTC")!) }
    /// Why it is planned, and why it was moved.
    public var explain: [String] { mail.reasons }
    public var flags: [String] { mail.flags }

    private enum CodingKeys: String, CodingKey {
        case key, rule, stream, customer, order, to, cc, due, local_due, status, reason, locale, subject, explain, flags
    }

    /// The keys `preview --json` and `outbox list --json` have always printed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(rule, forKey: .rule)
        try c.encode(stream, forKey: .stream)
        try c.encode(customer, forKey: .customer)
        try c.encodeIfPresent(order, forKey: .order)
        try c.encode(to, forKey: .to)
        try c.encode(cc, forKey: .cc)
        try c.encode(due, forKey: .due)
        try c.encode(local_due, forKey: .local_due)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encode(locale, forKey: .locale)
        try c.encodeIfPresent(subject, forKey: .subject)
        try c.encode(explain, forKey: .explain)
        try c.encode(flags, forKey: .flags)
    }
}

/// The outcome of `plan`.
public struct PlanReport: Sendable, Hashable, Codable {
    public var changes: PlanChanges
    public var eventsConsumed: Int64
    /// Whether the rules or planning settings changed since the last plan, so that every customer was planned.
    public var rulesChanged = false
}

extension Workspace {
    /// The effective rules: defaults with `rules.file` applied.
    public func rules() throws(AftersalesError) -> RuleSet {
        let path = configuration.rules.file
        return try RulesFile.load(path: path.isEmpty ? nil : path)
    }

    /// The effective rules without opening the database.
    public static func rules(_ settings: Settings) throws(AftersalesError) -> RuleSet {
        let configuration = try Configuration.load(path: settings.configPath, environment: settings.environment)
        let path = configuration.rules.file
        return try RulesFile.load(path: path.isEmpty ? nil : path)
    }

    /// One effective rule by id; an unknown id is invalid input.
    public static func rule(_ id: String, _ settings: Settings) throws(AftersalesError) -> Rule {
        guard let rule = try rules(settings)[id] else {
            throw .invalid(InvalidInput(field: "rule", value: id, problem: "no such rule; see `aftersales rules list`"))
        }
        return rule
    }

    /// The planning settings from configuration.
    public var planningSettings: PlanningSettings {
        PlanningSettings(
            calendar: MarketCalendar(opens: configuration.businessHours.start.minutes,
                                     closes: configuration.businessHours.end.minutes,
                                     extraHolidays: Set(configuration.holidays.extra)),
            supervisorEmail: configuration.supervisor.email.value,
            customsDaysBeforeETA: configuration.customs.daysBeforeETA,
            marketingCap: configuration.marketing.capCount,
            marketingCapDays: configuration.marketing.capDays)
    }

    /// Updates the outbox from what was recorded since the last plan (and customers whose
    /// computed dates came due). Cost follows what changed, not the size of the history.
    /// Planning needs no templates: which template locale a mail is written in is decided when it is rendered.
    /// `progress` hears after each batch how many of the customers to plan are done, of how many.
    public func plan(progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws(AftersalesError) -> PlanReport {
        let rules = try rules()
        let settings = planningSettings
        let now = self.now
        let fingerprint = Self.fingerprint(rules, settings)
        let planning = try store.dirtyCustomers(now: now, rules: fingerprint)
        if planning.rulesChanged {
            logger.info("the rules or planning settings changed since the last plan: planning every customer", metadata: ["customers": "\(planning.customers.count)"])
        }
        let dirty = planning.customers
        var changes = PlanChanges()
        let batch = AftersalesStore.factsBatch
        // A reading thread loads the next batch's facts while this one plans and writes the current
        // batch. Facts may be read outside the write transaction: anything recorded after the cursor
        // makes the customer due for the next plan anyway. The outbox entries, which the plan is
        // applied to, are read inside it.
        let facts = Ahead<(customers: [CustomerFacts], end: Int)>(capacity: 1)
        let reading = DispatchGroup()
        reading.enter()
        let store = self.store
        // A plan of many batches makes the write-ahead log grow by megabytes: as a send does, a connection of
        // its own copies it into the database after each batch, beside the planning, instead of the writer
        // whenever the log reaches SQLite's default size (the writer stalled a few milliseconds each time).
        let checkpointer = dirty.count > batch ? try store.startCheckpointing() : nil
        defer { if let checkpointer { store.endCheckpointing(checkpointer) } }
        Thread {
            defer { reading.leave(); facts.finish() }
            var start = 0
            var products = AftersalesStore.ProductMemo()
            while start < dirty.count, facts.waitForRoom() {
                // The first batch is a small one: nothing is planned until it is read.
                let end = min(start + (start == 0 ? min(batch, 20) : batch), dirty.count)
                let slice = Array(dirty[start..<end])
                start = end
                do throws(AftersalesError) {
                    facts.put(.success((try store.planningFacts(slice, products: &products), end)))
                } catch {
                    facts.put(.failure(error))
                    return
                }
            }
        }.start()
        defer { facts.cancel(); reading.wait() }
        var planned = 0
        while let next = facts.next() {
            let (customers, end) = try next.get()
            planned += 1
            let isLast = end >= dirty.count
            try store.planningBatch(customers.map(\.customer.id), cursor: isLast ? planning.lastEvent : nil, rules: isLast ? fingerprint : nil,
                                    now: now, changes: &changes) { stored, write in
                // Planning is pure, and so is working out and encoding what it changes in the outbox:
                // the customers of a batch are done on worker threads, one per core, while this one (the
                // store's connection) writes each customer's changes as soon as they are ready, in order.
                // (Writing after the whole batch was planned left a core idle: a fifth of a full plan's time.)
                let diffs = Results<AftersalesStore.PreparedDiff>(count: customers.count)
                let work: @Sendable () -> Void = {
                    while let index = diffs.claim() {
                        let plan = Planner.plan(customers[index], existing: stored[index].map(ExistingMail.init), rules: rules, settings: settings, now: now)
                        diffs.set(index, Result { () throws(AftersalesError) in
                            try AftersalesStore.prepare(OutboxDiff.diff(plan, stored: stored[index], now: now))
                        })
                    }
                }
                let workers = DispatchGroup()
                if customers.count < 16 {
                    work()
                } else {
                    for _ in 0..<ProcessInfo.processInfo.activeProcessorCount { DispatchQueue.global().async(group: workers, execute: work) }
                }
                // On a failed write the workers stop at the next customer; they are waited for either way.
                defer { diffs.cancel(); workers.wait() }
                for index in customers.indices { try write(try diffs.wait(index).get()) }
            }
            checkpointer?.request()
            progress?(end, dirty.count)
        }
        if planned == 0 {
            // Nothing to plan: the events read (naming no customer) are consumed all the same.
            try store.advancePlannerCursor(to: planning.lastEvent, rules: fingerprint)
        }
        logger.info("planned", metadata: ["customers": "\(changes.customers)", "planned": "\(changes.planned)", "cancelled": "\(changes.cancelled)"])
        return PlanReport(changes: changes, eventsConsumed: planning.newEvents, rulesChanged: planning.rulesChanged)
    }

    /// What a plan depends on besides the facts, as 64 bits of SHA-256: the effective rules and seasons
    /// (JSON with sorted keys) and the planning settings. A plan whose fingerprint differs from the last
    /// plan's plans every customer, so that mail already planned follows a changed rules file or setting.
    static func fingerprint(_ rules: RuleSet, _ settings: PlanningSettings) -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var text = Data()
        text += (try? encoder.encode(rules.rules)) ?? Data()
        text += (try? encoder.encode(rules.seasons)) ?? Data()
        let calendar = settings.calendar
        text += Data("\(calendar.opens)|\(calendar.closes)|\(calendar.extraHolidays.sorted())|\(settings.supervisorEmail)|\(settings.customsDaysBeforeETA)|\(settings.marketingCap)|\(settings.marketingCapDays)".utf8)
        return SHA256.hash(data: text).withUnsafeBytes { Int64(bitPattern: $0.loadUnaligned(as: UInt64.self)) }
    }

    /// What would go out in the next `days` days as of now, without writing anything: the
    /// stored outbox with a fresh plan of the customers in scope applied (the diff `plan` writes).
    /// With `explain`, cancellations are listed too.
    public func preview(days: Int, customerID: String? = nil, orderID: String? = nil, explain: Bool = false) throws(AftersalesError) -> [MailView] {
        let rules = try rules()
        let settings = planningSettings
        let now = self.now
        let window = PreviewWindow(from: now.addingTimeInterval(-Planner.cancellationLookback), to: now.addingTimeInterval(TimeInterval(days) * 86_400))
        let renderer = try? self.renderer()
        let ids = try store.previewCustomers(customerID: customerID, orderID: orderID)
        var views: [MailView] = []
        var products = AftersalesStore.ProductMemo()
        // The customers' facts read a batch at a time, as the planner reads them.
        for start in stride(from: 0, to: ids.count, by: AftersalesStore.factsBatch) {
            let batch = Array(ids[start..<min(start + AftersalesStore.factsBatch, ids.count)])
            for (facts, entries) in try store.planningInputs(batch, products: &products) {
                let plan = Planner.plan(facts, existing: entries.map(ExistingMail.init), rules: rules, settings: settings, now: now)
                for item in OutboxDiff.diff(plan, stored: entries, now: now).items {
                    guard var view = Self.shown(item, explain: explain, window: window) else { continue }
                    if let orderID, view.mail.orderID != orderID { continue }
                    Self.written(&view, facts: facts, renderer: renderer, subject: item.mail != nil)
                    views.append(view)
                }
            }
        }
        return views.sorted { ($0.due, $0.key) < ($1.due, $1.key) }
    }

    /// How `preview` shows one item of a diff (nil: not shown): mail to send in the window as it will
    /// be after the plan; with `explain`, cancellations, and stored mail no longer pending that was due
    /// in the window.
    static func shown(_ item: OutboxDiff.Item, explain: Bool, window: PreviewWindow) -> MailView? {
        guard let mail = item.mail ?? item.stored?.mail else { return nil }
        var status: OutboxStatus
        var reason: String?
        switch (item.change, item.stored) {
        case (.insert(let entry)?, _):
            status = entry.status
        case (.move(let entry, _)?, _):
            status = entry.status
        case (.revive(let entry, _)?, _):
            status = entry.status
        case (.cancel(_, let cancel)?, _):
            guard explain else { return nil }
            (status, reason) = (cancel.to, cancel.history)
        case (_, let stored?) where stored.status.isPending:
            status = stored.status
        case (_, let stored?):
            guard explain, window.contains(stored.mail.due) else { return nil }
            (status, reason) = (stored.status, stored.reason)
        case (_, nil):
            // A cancellation the rules worked out for mail never stored.
            guard explain, case .cancel(let why) = mail.disposition, window.contains(mail.due) else { return nil }
            (status, reason) = (.cancelled, why)
        }
        if status.isPending, mail.due > window.to { return nil }
        if status == .held { reason = "waiting for approval (aftersales outbox approve \(mail.key))" }
        return MailView(mail, status: status, reason: reason)
    }
}

/// The times `preview` shows: stored and cancelled mail from the explain window's start, pending mail up to the horizon.
struct PreviewWindow {
    var from: Date
    var to: Date
    func contains(_ date: Date) -> Bool { date >= from && date <= to }
}

extension Workspace {
    /// Sets the template locale a view's mail is written in and, with `subject`, its subject, when the templates are at hand.
    static func written(_ view: inout MailView, facts: CustomerFacts, renderer: MailRenderer?, subject: Bool) {
        guard let renderer, let locale = renderer.locale(for: view.mail, customer: facts.customer) else { return }
        view.locale = locale
        if subject { view.subject = try? renderer.parts(view.mail, facts: facts, locale: locale).subject }
    }

    /// Outbox entries with their subjects in the recipient's language.
    public func outboxList(status: OutboxStatus? = nil, customerID: String? = nil, orderID: String? = nil) throws(AftersalesError) -> [MailView] {
        try views(of: try store.outbox(status: status, customerID: customerID, orderID: orderID))
    }

    /// The entries with these keys, in this order, with their subjects.
    public func outboxList(keys: [String]) throws(AftersalesError) -> [MailView] {
        try views(of: try store.outbox(keys: keys))
    }

    func views(of entries: [OutboxEntry]) throws(AftersalesError) -> [MailView] {
        let renderer = try? self.renderer()
        var facts: [String: CustomerFacts?] = [:]
        var products = AftersalesStore.ProductMemo()
        return try entries.map { entry throws(AftersalesError) in
            var view = MailView(entry)
            if facts[entry.mail.customerID] == nil {
                facts[entry.mail.customerID] = .some(try store.planningFacts([entry.mail.customerID], products: &products).first)
            }
            if case .some(let f?) = facts[entry.mail.customerID] { Self.written(&view, facts: f, renderer: renderer, subject: true) }
            return view
        }
    }

    /// One outbox entry as `outbox show` and the ops actions print it: with the template locale it is
    /// written in when its templates load (no subject).
    public func view(of entry: OutboxEntry) -> MailView {
        var view = MailView(entry)
        if let renderer = try? renderer(templates: [entry.mail.template]), let customer = try? store.customer(id: entry.mail.customerID),
           let locale = renderer.locale(for: entry.mail, customer: customer) {
            view.locale = locale
        }
        return view
    }
}
