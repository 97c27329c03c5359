import AftersalesDomain
import Foundation
import GRDB

/// The database schema: named migrations, never edited once shipped. Add a new one instead.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.create(table: "customers") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("company", .text)
                t.column("email", .text).notNull()
                t.column("cc", .jsonText).notNull()
                t.column("locale", .text).notNull()
                t.column("timeZone", .text).notNull()
                t.column("country", .text).notNull()
                t.column("industry", .text)
                t.column("manager", .jsonText)
                t.column("consent", .boolean).notNull()
                t.column("consentAt", .datetime)
                t.column("unsubscribedAt", .datetime)
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "products") { t in
                t.primaryKey("sku", .text)
                t.column("name", .text).notNull()
                t.column("technical", .boolean).notNull()
                t.column("maintenance", .jsonText)
                t.column("cycleDays", .integer)
                t.column("manualURL", .text)
                t.column("videoURL", .text)
                t.column("partsURL", .text)
                t.column("successorSKU", .text)
                t.column("successorOffer", .text)
                t.column("succeededAt", .datetime)
            }
            try db.create(table: "orders") { t in
                t.primaryKey("id", .text)
                t.column("customerID", .text).notNull().indexed().references("customers")
                t.column("lines", .jsonText).notNull()
                t.column("currency", .text).notNull()
                t.column("placedAt", .datetime).notNull()
                t.column("completedAt", .datetime)
                t.column("cancelledAt", .datetime)
            }
            try db.create(table: "shipments") { t in
                t.primaryKey("id", .text)
                t.column("orderID", .text).notNull().indexed().references("orders")
                t.column("carrier", .text).notNull()
                t.column("trackingNumber", .text).notNull()
                t.column("trackingURL", .text)
                t.column("mode", .text).notNull()
                t.column("dispatchedAt", .datetime).notNull()
                t.column("eta", .datetime).notNull()
                t.column("destinationCountry", .text)
                t.column("destinationPort", .text)
                t.column("documents", .jsonText).notNull()
            }
            try db.create(table: "shipment_events") { t in
                t.autoIncrementedPrimaryKey("rowid")
                t.column("shipmentID", .text).notNull().indexed().references("shipments")
                t.column("kind", .text).notNull()
                t.column("at", .datetime).notNull()
                t.column("location", .text)
                t.column("note", .text)
                t.column("newETA", .datetime)
                t.column("cause", .text)
                t.column("remedy", .text)
                t.column("reason", .text)
                t.column("signedBy", .text)
            }
            try db.create(table: "complaints") { t in
                t.primaryKey("id", .text)
                t.column("orderID", .text).notNull().indexed().references("orders")
                t.column("category", .text).notNull()
                t.column("text", .text).notNull()
                t.column("openedAt", .datetime).notNull()
                t.column("acknowledgedAt", .datetime)
                t.column("solution", .text)
                t.column("solutionAt", .datetime)
                t.column("resolution", .text)
                t.column("resolvedAt", .datetime)
                t.column("rating", .integer)
                t.column("ratedAt", .datetime)
            }
            try db.create(table: "surveys") { t in
                t.primaryKey("orderID", .text).references("orders")
                t.column("score", .integer).notNull()
                t.column("reason", .text)
                t.column("liked", .jsonText).notNull()
                t.column("intent", .text)
                t.column("answeredAt", .datetime).notNull()
            }
            try db.create(table: "reviews") { t in
                t.autoIncrementedPrimaryKey("rowid")
                t.column("orderID", .text).notNull().indexed().references("orders")
                t.column("positive", .boolean).notNull()
                t.column("text", .text)
                t.column("reviewedAt", .datetime).notNull()
            }
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("kind", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("customerID", .text)
                t.column("orderID", .text).indexed()
                t.column("occurredAt", .datetime).notNull()
                t.column("recordedAt", .datetime).notNull()
                t.column("payload", .jsonText).notNull()
            }
        }
        registerOutbox(&migrator)
        registerOrderLines(&migrator)
        registerImport(&migrator)
        registerInbound(&migrator)
        registerComplaintSource(&migrator)
        registerShipmentDispatchETA(&migrator)
        registerPlannerCancellations(&migrator)
        return migrator
    }
}


extension Schema {
    /// Order lines move from the JSON column `orders.lines` to a table of their own, one row per line at
    /// its position in the order (indexed by SKU: the planner looks up a changed product's owners).
    static func registerOrderLines(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-order-lines") { db in
            try db.create(table: "order_lines") { t in
                t.column("orderID", .text).notNull().references("orders")
                t.column("position", .integer).notNull()
                t.column("sku", .text).notNull().indexed()
                t.column("quantity", .integer).notNull()
                t.column("unitPriceMinor", .integer)
                t.primaryKey(["orderID", "position"])
            }
            // The lines as earlier versions wrote them: a JSON array of {sku, quantity, unitPriceMinor?}.
            try db.execute(sql: """
                INSERT INTO order_lines (orderID, position, sku, quantity, unitPriceMinor)
                SELECT o.id, l.key, json_extract(l.value, '$.sku'), json_extract(l.value, '$.quantity'), json_extract(l.value, '$.unitPriceMinor')
                FROM orders o, json_each(o.lines) l
                """)
            try db.alter(table: "orders") { t in t.drop(column: "lines") }
        }
    }
}
