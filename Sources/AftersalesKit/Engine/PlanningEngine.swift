import AftersalesDomain
import AftersalesPlanning
import Foundation
import GRDB

/// A mail as `preview` and `outbox list` show it.
public struct MailView: Sendable, Hashable, Codable {
    public var key: String
    public var rule: String
    public var stream: MailStream
    public var customer: String
    public var order: String?
    public var to: [String]
    public var cc: [String]
    /// ISO 8601 UTC.
    public var due: String
    /// ISO 8601 with the recipient's offset.
    public var local_due: String
    public var status: OutboxStatus
    public var reason: String?
    public var locale: String
    /// The subject in the recipient's language (nil when it cannot be rendered).
    public var subject: String?
    public var explain: [String]
    public var flags: [String]
}

/// The outcome of `plan`.
public struct PlanReport: Sendable, Hashable, Codable {
    public var changes: PlanChanges
    public var eventsConsumed: Int64
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
    public func plan() throws(AftersalesError) -> PlanReport {
        let rules = try rules()
        let settings = planningSettings
        let now = self.now
        let (dirty, last) = try store.read { db in try AftersalesStore.dirtyCustomers(db, now: now) }
        let consumed = try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT ? - COALESCE((SELECT value FROM planner_state WHERE name = 'cursor'), 0)", arguments: [last]) ?? 0
        }
        var changes = PlanChanges()
        let batch = AftersalesStore.factsBatch
        // A reading thread loads the next batch's facts while this one plans and writes the current
        // batch. Facts may be read outside the write transaction: anything recorded after the cursor
        // makes the customer due for the next plan anyway. The outbox entries, which the plan is
        // applied to, are read inside it.
        let facts = Ahead<[CustomerFacts]>(capacity: 1)
        let reading = DispatchGroup()
        reading.enter()
        let store = self.store
        Thread {
            defer { reading.leave(); facts.finish() }
            var start = 0
            var products = AftersalesStore.ProductMemo()
            while start < dirty.count, facts.waitForRoom() {
                let slice = Array(dirty[start..<min(start + batch, dirty.count)])
                start += batch
                do throws(AftersalesError) {
                    facts.put(.success(try store.read { db in try AftersalesStore.customerFacts(db, slice, products: &products) }))
                } catch {
                    facts.put(.failure(error))
                    return
                }
            }
        }.start()
        defer { facts.cancel(); reading.wait() }
        // Templates are loaded only when there is something to plan, while the first facts are read.
        let templates = dirty.isEmpty ? nil : try? templateStore()
        var planned = 0
        while let next = facts.next() {
            let customers = try next.get()
            planned += 1
            let isLast = planned * batch >= dirty.count
            changes = try store.write { db in
                var changes = changes
                let inputs = try customers.map { (facts: $0, entries: try AftersalesStore.outboxEntries(db, customerID: $0.customer.id)) }
                // Planning is pure, and so is working out what it changes in the outbox: the customers of a
                // batch are done in parallel, and this connection only writes.
                let writes = Results<AftersalesStore.OutboxWrites>(count: inputs.count)
                let workers = inputs.count < 16 ? 1 : ProcessInfo.processInfo.activeProcessorCount
                let path = store.path
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    while let index = writes.claim() {
                        var plan = Planner.plan(inputs[index].facts, existing: AftersalesStore.existing(inputs[index].entries), rules: rules, settings: settings, now: now)
                        if let templates { Self.recordTemplateLocales(&plan, templates: templates) }
                        writes.set(index, Result { () throws(AftersalesError) in
                            try AftersalesStore.map(path: path) { try AftersalesStore.writes(plan: plan, entries: inputs[index].entries, now: now) }
                        })
                    }
                }
                for result in writes.values {
                    guard let result else { continue }
                    try AftersalesStore.apply(db, try result.get(), now: now, changes: &changes)
                    changes.customers += 1
                }
                if isLast {
                    try AftersalesStore.advancePlannerCursor(db, to: last)
                }
                return changes
            }
        }
        if planned == 0 {
            // Nothing to plan: the events read (naming no customer) are consumed all the same.
            try store.write { db in try AftersalesStore.advancePlannerCursor(db, to: last) }
        }
        logger.info("planned", metadata: ["customers": "\(changes.customers)", "planned": "\(changes.planned)", "cancelled": "\(changes.cancelled)"])
        return PlanReport(changes: changes, eventsConsumed: max(consumed, 0))
    }

    /// What would go out in the next `days` days as of now, without writing anything: the
    /// stored outbox merged with a fresh plan of the customers in scope. With `explain`,
    /// cancellations are listed too.
    public func preview(days: Int, customerID: String? = nil, orderID: String? = nil, explain: Bool = false) throws(AftersalesError) -> [MailView] {
        let rules = try rules()
        let settings = planningSettings
        let now = self.now
        let horizon = now.addingTimeInterval(TimeInterval(days) * 86_400)
        let renderer = try? self.renderer()
        return try store.read { db in
            var ids: [String]
            if let orderID {
                let order = try AftersalesStore.order(db, orderID)
                ids = [order.customerID]
            } else if let customerID {
                _ = try AftersalesStore.customer(db, customerID)
                ids = [customerID]
            } else {
                ids = try String.fetchAll(db, sql: "SELECT id FROM customers ORDER BY id")
            }
            var views: [MailView] = []
            var products = AftersalesStore.ProductMemo()
            // The customers' facts read a batch at a time, as the planner reads them.
            for start in stride(from: 0, to: ids.count, by: AftersalesStore.factsBatch) {
                let batch = Array(ids[start..<min(start + AftersalesStore.factsBatch, ids.count)])
                for facts in try AftersalesStore.customerFacts(db, batch, products: &products) {
                    let id = facts.customer.id
                    let entries = try AftersalesStore.outboxEntries(db, customerID: id)
                    let stored = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0) })
                    let plan = Planner.plan(facts, existing: AftersalesStore.existing(entries), rules: rules, settings: settings, now: now)
                    var keys: Set<String> = []
                    for mail in plan.mails {
                        keys.insert(mail.key)
                        if let orderID, mail.orderID != orderID { continue }
                        let entry = stored[mail.key]
                        var status: OutboxStatus
                        var reason: String?
                        switch (entry, mail.disposition) {
                        case (let e?, _) where !e.status.isPending:
                            guard explain, e.due <= horizon, e.due >= now.addingTimeInterval(-Planner.cancellationLookback) else { continue }
                            (status, reason) = (e.status, e.reason)
                        case (_, .cancel(let why)):
                            guard explain, entry != nil || (mail.due <= horizon && mail.due >= now.addingTimeInterval(-Planner.cancellationLookback)) else { continue }
                            (status, reason) = (.cancelled, why)
                        case (let e?, .send):
                            (status, reason) = (e.status, nil)
                        case (nil, .send):
                            (status, reason) = (mail.needsApproval ? .held : .planned, nil)
                        }
                        if status.isPending, mail.due > horizon { continue }
                        if status == .held { reason = "waiting for approval (aftersales outbox approve \(mail.key))" }
                        var view = MailView(mail, status: status, reason: reason)
                        view.subject = Self.subject(MailRequest(mail), facts: facts, renderer: renderer)
                        if let renderer { view.locale = renderer.locale(for: MailRequest(mail), customer: facts.customer) ?? view.locale }
                        views.append(view)
                    }
                    for entry in entries where entry.status.isPending && !keys.contains(entry.key) && explain {
                        if let orderID, entry.orderID != orderID { continue }
                        var view = MailView(entry)
                        view.status = .cancelled
                        view.reason = "no longer planned: the facts that triggered it changed"
                        views.append(view)
                    }
                }
            }
            return views.sorted { ($0.due, $0.key) < ($1.due, $1.key) }
        }
    }
}

extension Workspace {
    /// Records with each planned mail the template locale that will be used (the first of the
    /// recipient's locale chain that has the rule's templates).
    static func recordTemplateLocales(_ plan: inout CustomerPlan, templates: TemplateStore) {
        // Few distinct (template, locale) pairs per customer: each is looked up once.
        var found: [String: String?] = [:]
        for index in plan.mails.indices {
            let mail = plan.mails[index]
            let lookup = mail.audience == .customer ? mail.template + "|" + mail.locale : mail.template + "|"
            let used = found[lookup] ?? {
                let chain = mail.audience == .customer ? LocaleTag(unchecked: mail.locale).fallbackChain : ["en"]
                let used = templates.locale(for: mail.template, chain: chain)
                found[lookup] = used
                return used
            }()
            if let used { plan.mails[index].locale = used }
        }
    }

    static func subject(_ request: MailRequest, facts: CustomerFacts, renderer: MailRenderer?) -> String? {
        guard let renderer, let locale = renderer.locale(for: request, customer: facts.customer) else { return nil }
        return try? renderer.parts(request, facts: facts, locale: locale).subject
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
        var facts: [String: CustomerFacts] = [:]
        return try entries.map { entry throws(AftersalesError) in
            var view = MailView(entry)
            if facts[entry.customerID] == nil {
                facts[entry.customerID] = try store.read { db in try AftersalesStore.customerFacts(db, entry.customerID) }
            }
            if let f = facts[entry.customerID] { view.subject = Self.subject(MailRequest(entry), facts: f, renderer: renderer) }
            return view
        }
    }
}

extension MailView {
    init(_ mail: PlannedMail, status: OutboxStatus, reason: String?) {
        let zone = TimeZone(identifier: mail.timeZone) ?? TimeZone(identifier: "UTC")!
        self.init(key: mail.key, rule: mail.rule, stream: mail.stream, customer: mail.customerID, order: mail.orderID, to: mail.to, cc: mail.cc,
                  due: Timestamp.utc(mail.due), local_due: Timestamp.local(mail.due, in: zone), status: status, reason: reason,
                  locale: mail.locale, subject: nil, explain: mail.reasons, flags: mail.flags)
    }

    /// An outbox entry as stored.
    public init(_ entry: OutboxEntry) {
        let zone = TimeZone(identifier: entry.timeZone) ?? TimeZone(identifier: "UTC")!
        self.init(key: entry.key, rule: entry.rule, stream: entry.stream, customer: entry.customerID, order: entry.orderID,
                  to: entry.toAddresses, cc: entry.ccAddresses, due: Timestamp.utc(entry.due), local_due: Timestamp.local(entry.due, in: zone),
                  status: entry.status, reason: entry.reason, locale: entry.locale, subject: nil, explain: entry.reasons, flags: entry.flags)
    }
}
