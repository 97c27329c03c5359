import AftersalesDomain
import Foundation

/// What `customer export` wrote.
public struct CustomerExport: Sendable, Hashable, Encodable {
    /// The JSON file with every stored field.
    public var json: String
    /// The `.eml` files of the archived mail, one per mail.
    public var mails: [String]
}

extension Workspace {
    /// GDPR access: writes `<dir>/<customer>.json` with every stored field of the customer and of
    /// everything about them, and `<dir>/mail/<key>.eml` with the archived bytes of every mail (the key's
    /// slashes as `_`). The directory is created if needed; files of an earlier export are replaced.
    public func exportCustomer(id: String, to directory: String) throws(AftersalesError) -> CustomerExport {
        let records = try store.customerRecords(id: id)
        let fm = FileManager.default
        let base = URL(fileURLWithPath: directory)
        let mailDirectory = base.appendingPathComponent("mail")
        func write(_ data: Data, _ url: URL) throws(AftersalesError) {
            do { try data.write(to: url, options: .atomic) } catch {
                throw .failure("cannot write \"\(url.path)\": \((error as NSError).localizedDescription); check the directory given to --out")
            }
        }
        do {
            try fm.createDirectory(at: mailDirectory, withIntermediateDirectories: true)
        } catch {
            throw .failure("cannot create \"\(mailDirectory.path)\": \((error as NSError).localizedDescription); check the directory given to --out")
        }
        let json = base.appendingPathComponent(Self.fileName(id) + ".json")
        try write(records.json, json)
        var mails: [String] = []
        for (key, eml) in records.mails {
            let url = mailDirectory.appendingPathComponent(Self.fileName(key) + ".eml")
            try write(eml, url)
            mails.append(url.path)
        }
        return CustomerExport(json: json.path, mails: mails)
    }

    /// GDPR erasure of a customer (see ``AftersalesStore/eraseCustomer(id:force:now:)``), holding the
    /// run lock so that no run is sending their mail meanwhile.
    public func eraseCustomer(id: String, force: Bool) throws(AftersalesError) -> Erasure {
        guard let lock = try RunLock(path: lockPath, waitSeconds: 60) else {
            throw .failure("another run has held the lock \(lockPath) for over a minute; try again when it has finished")
        }
        defer { withExtendedLifetime(lock) {} }
        return try store.eraseCustomer(id: id, force: force, now: now)
    }

    /// A file name for an id or key: path separators and other unsafe characters as `_`.
    static func fileName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || "-.@+".contains($0) ? $0 : "_" })
    }
}
