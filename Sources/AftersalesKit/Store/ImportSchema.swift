import GRDB

extension Schema {
    /// Issue 17: products' names in other languages (`import products` reads them from `name.LOCALE` columns).
    static func registerImport(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-17-import") { db in
            try db.alter(table: "products") { t in t.add(column: "localizedNames", .jsonText) }
        }
    }
}
