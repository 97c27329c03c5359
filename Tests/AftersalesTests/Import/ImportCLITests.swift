import Foundation
import Testing

/// `aftersales import` end to end on the built binary.
@Suite("Import command line")
struct ImportCLITests {
    static let customers = """
        id,name,email,locale,timezone,country,manager_name,manager_email,consent
        C1,Lucía,lucia@ferrenorte.mx,es-MX,America/Mexico_City,MX,Wang Lei,wang@example.com,yes
        C2,Ahmed,ahmed@gulf.example,ar,Asia/Riyadh,SA,,,no

        """
    static let products = "sku,name,technical,cycle_days\nP1,Pump,yes,180\nP2,Seal kit,no,\n"
    static let orders = """
        id,customer,sku,quantity,unit_price,currency,placed_at
        SO-1,C1,P1,2,129.00,USD,2026-11-02 09:30
        SO-1,C1,P2,10,1990,USD,2026-11-02 09:30
        SO-2,C2,P1,1,,USD,2026-11-03T10:00:00Z

        """
    static let shipments = """
        order,id,carrier,tracking,tracking_url,eta,mode,port,dispatched_at,documents
        SO-1,S1,Maersk,MAEU1,https://www.maersk.com/tracking/MAEU1,2026-12-10,sea,Manzanillo,2026-11-22T08:00:00Z,commercial invoice|packing list

        """

    func write(_ cli: CLI, _ name: String, _ text: String) throws -> String {
        let url = cli.directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func importAll(_ cli: CLI) throws -> [[String: Any]] {
        var summaries: [[String: Any]] = []
        for (kind, text) in [("customers", Self.customers), ("products", Self.products), ("orders", Self.orders), ("shipments", Self.shipments)] {
            let result = try cli.run(["import", kind, try write(cli, "\(kind).csv", text), "--json"])
            #expect(result.code == 0, "\(kind): \(result.stderr) \(result.stdout)")
            summaries.append(try json(result.stdout))
        }
        return summaries
    }

    @Test("import, plan: tracking mail is planned for the imported shipment; a re-import changes nothing and plans nothing")
    func reimport() throws {
        let cli = try CLI()
        let first = try importAll(cli)
        #expect(first.map { $0["new"] as? Int } == [2, 2, 2, 1])
        #expect(first[2]["rows"] as? Int == 3 && first[2]["kind"] as? String == "orders")
        let plan = try json(try cli.run(["plan", "--json"]).stdout)
        #expect(((plan["changes"] as? [String: Any])?["planned"] as? Int ?? 0) > 0)
        let outbox = try cli.run(["outbox", "list", "--json"])
        #expect(outbox.stdout.contains("\"tracking/S1/1\""), "the tracking mail of the imported shipment is planned")
        let status = try cli.run(["status", "--json"]).stdout

        let again = try importAll(cli)
        #expect(again.allSatisfy { $0["new"] as? Int == 0 && $0["updated"] as? Int == 0 })
        #expect(again.map { $0["unchanged"] as? Int } == [2, 2, 2, 1])
        #expect(try cli.run(["status", "--json"]).stdout == status, "nothing recorded")
        let replan = try json(try cli.run(["plan", "--json"]).stdout)
        #expect((replan["changes"] as? [String: Any])?["planned"] as? Int == 0)
        #expect(replan["eventsConsumed"] as? Int == 0, "no event was recorded, so nothing is re-planned")
    }

    @Test("atomic refusal: exit 64, every bad row on stderr, nothing written; --skip-invalid writes the rest and the rejects")
    func refusalAndSkip() throws {
        let cli = try CLI()
        _ = try importAll(cli)
        let before = try cli.run(["status", "--json"]).stdout
        let bad = try write(cli, "bad.csv", """
            id,customer,sku,quantity
            SO-3,C1,P1,1
            SO-4,NOPE,P1,1
            SO-5,C1,P1,-2
            """)
        let refused = try cli.run(["import", "orders", bad])
        #expect(refused.code == 64)
        #expect(refused.stderr.contains("line 3: customer \"NOPE\""), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 4: quantity \"-2\""), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was imported"))
        #expect(try cli.run(["status", "--json"]).stdout == before)
        let refusedJSON = try cli.run(["import", "orders", bad, "--json"])
        #expect(refusedJSON.code == 64)
        let errors = try #require(try json(refusedJSON.stdout)["errors"] as? [[String: Any]])
        #expect(errors.count == 2 && errors[0]["line"] as? Int == 3 && errors[0]["column"] as? String == "customer"
                && errors[0]["value"] as? String == "NOPE" && (errors[0]["message"] as? String)?.isEmpty == false)

        let dry = try cli.run(["import", "orders", try write(cli, "ok.csv", "id,customer,sku,quantity\nSO-3,C1,P1,1\n"), "--dry-run", "--json"])
        let drySummary = try json(dry.stdout)
        #expect(dry.code == 0 && drySummary["new"] as? Int == 1 && drySummary["written"] as? Bool == false)
        #expect(try cli.run(["status", "--json"]).stdout == before, "--dry-run writes nothing")

        let rejects = cli.directory.appendingPathComponent("rejects.csv").path
        let skipped = try cli.run(["import", "orders", bad, "--skip-invalid", "--rejects", rejects])
        #expect(skipped.code == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("3 rows, 1 new, 0 updated, 0 unchanged, 2 invalid"), "\(skipped.stdout)")
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(rejected.contains("SO-4") && rejected.contains("SO-5") && !rejected.contains("SO-3"))
        #expect(try cli.run(["order", "show", "SO-3"]).code == 0)
        #expect(try cli.run(["import", "orders", bad, "--rejects", rejects]).code == 64, "--rejects needs --skip-invalid")
    }

    @Test("folder mode: name order, done/ and failed/ with .errors.txt, a file still being written left; run imports first")
    func folder() throws {
        var cli = try CLI()
        let inbox = cli.directory.appendingPathComponent("inbox")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-23T10:00:00Z"))
        func drop(_ name: String, _ text: String, age: TimeInterval) throws {
            let url = inbox.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-age)], ofItemAtPath: url.path)
        }
        try drop("01-customers.csv", Self.customers, age: 60)
        try drop("02-products.csv", Self.products, age: 60)
        try drop("03-orders.csv", "id,customer,sku,quantity\nSO-9,NOPE,P1,1\n", age: 60)
        try drop("04-shipments.csv", Self.shipments, age: 1)
        try drop("README.txt", "what is this", age: 60)
        let result = try cli.run(["import", "--from-dir", inbox.path])
        #expect(result.code == 64, "a failed file makes the exit 64")
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("done/01-customers.csv").path))
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("done/02-products.csv").path))
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("failed/03-orders.csv").path))
        let errors = try String(contentsOfFile: inbox.appendingPathComponent("failed/03-orders.csv.errors.txt").path, encoding: .utf8)
        #expect(errors.contains("line 2: customer \"NOPE\""), "\(errors)")
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("failed/README.txt.errors.txt").path))
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("04-shipments.csv").path), "modified 1 s ago: left for the next run")
        #expect(result.stdout.contains("04-shipments.csv: modified in the last"))

        // `run` imports the folder first when import.dir is set.
        try drop("03-orders-fixed.csv", Self.orders, age: 60)
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-60)], ofItemAtPath: inbox.appendingPathComponent("04-shipments.csv").path)
        cli.environment["AFTERSALES_IMPORT_DIR"] = inbox.path
        cli.environment["AFTERSALES_TRANSPORT_DIR"] = cli.directory.appendingPathComponent("sent").path
        let run = try cli.run(["run"])
        #expect(run.code == 0, "\(run.stderr)")
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("done/03-orders-fixed.csv").path))
        #expect(fm.fileExists(atPath: inbox.appendingPathComponent("done/04-shipments.csv").path), "in name order: the orders first")
        #expect(run.stdout.contains("planned"), "\(run.stdout)")
        #expect(try cli.run(["outbox", "list", "--json"]).stdout.contains("\"tracking/S1/1\""), "the run planned for what it imported")
    }

    @Test("both examples import from the repository with the README's commands")
    func examples() throws {
        var cli = try CLI(now: "2026-12-01T00:00:00Z")
        cli.environment["AFTERSALES_CONFIG"] = CLI.packageRoot.appendingPathComponent("examples/import/aftersales.yml").path
        let root = CLI.packageRoot.appendingPathComponent("examples/import").path
        let steps: [(String, String, String)] = [
            ("customers", "shopify/customers.csv", "shopify-customers"), ("products", "shopify/products.csv", "shopify-products"),
            ("orders", "shopify/orders.csv", "shopify-orders"),
            ("customers", "erp/customers.csv", "erp-customers"), ("products", "erp/products.csv", "erp-products"),
            ("orders", "erp/orders.csv", "erp-orders"), ("shipments", "erp/shipments.csv", "erp-shipments"), ("events", "erp/events.csv", "erp-events"),
        ]
        for (kind, file, mapping) in steps {
            let result = try cli.run(["import", kind, root + "/" + file, "--mapping", mapping, "--json"])
            #expect(result.code == 0, "\(file): \(result.stdout) \(result.stderr)")
            let summary = try json(result.stdout)
            #expect(summary["invalid"] as? Int == 0 && (summary["new"] as? Int ?? 0) > 0, "\(file): \(summary)")
        }
        let order = try json(try cli.run(["order", "show", "#1001", "--json"]).stdout)
        #expect(String(describing: order).contains("PUMP-200") && String(describing: order).contains("SEAL-KIT"))
        let erpOrder = try cli.run(["order", "show", "SO-2026-0101", "--json"]).stdout
        #expect(erpOrder.contains("LXB-200") && erpOrder.contains("MFJ-200"))
        let customer = try json(try cli.run(["customer", "show", "KH-0002", "--json"]).stdout)
        #expect(customer["name"] as? String == "أحمد الراشد" && customer["company"] as? String == "شركة الخليج للمضخات")
        let shipment = try cli.run(["shipment", "show", "FH-0102-1", "--json"])
        #expect(shipment.stdout.contains("delivered") && shipment.stdout.contains("أحمد الراشد"), "\(shipment.stdout)")
    }
}
