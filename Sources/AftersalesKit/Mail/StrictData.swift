import Mustache

/// Strict rendering on top of swift-mustache: the data of one render, wrapped so that every name the
/// template looks up and does not find is recorded, while swift-mustache renders as usual.
///
/// swift-mustache looks a name `a.b` up by asking each context on its stack, top first, for `a`
/// (``MustacheParent/child(named:)``), then asking what it found for `b`. A context that lacks `a`
/// is not yet a miss: a lower one may have it. So a miss is decided by what swift-mustache asks next:
/// - the root (the bottom of the stack) lacking a name: nothing below it, a miss;
/// - another context lacking a name: a miss unless the next question is the same name asked of
///   another context (the lookup going down the stack), or there is none left.
final class MissingNames {
    /// Names not found, in the order the template uses them (dotted where a part of a path was missing).
    private(set) var names: [String] = []
    /// A context's "not found" that the next question decides.
    private var pending: (context: Int, name: String, path: String)?
    private var serial = 0

    /// The data to render, ready to record misses.
    func root(_ data: any MustacheParent) -> StrictData {
        StrictData(value: data, path: "", id: 0, isRoot: true, log: self)
    }

    /// Called for every question a context is asked.
    fileprivate func asked(_ context: Int, _ name: String) {
        if let pending, pending.name != name || pending.context == context { names.append(pending.path) }
        pending = nil
    }

    fileprivate func notFound(_ context: Int, _ name: String, path: String, isRoot: Bool) {
        if isRoot { names.append(path) } else { pending = (context, name, path) }
    }

    /// A found value, wrapped when it has children (objects, and lists of them).
    fileprivate func wrap(_ value: Any, path: @autoclosure () -> String) -> Any {
        // Most values are text, numbers and flags: tested first, by comparing their dynamic type (no
        // runtime cast: `is String` and its kin, failing for every object, were 4.5% of a render), and
        // their path is never written out.
        let type = type(of: value)
        if type == String.self || type == Bool.self || type == Int.self { return value }
        if let parent = value as? MustacheParent {
            serial += 1
            return StrictData(value: parent, path: path(), id: serial, isRoot: false, log: self)
        }
        if let list = value as? [Any] {
            let path = path()
            return list.map { wrap($0, path: path) }
        }
        return value
    }

    /// Ends the render: a last "not found" that nothing followed is a miss.
    func finish() -> [String] {
        if let pending { names.append(pending.path) }
        pending = nil
        return names
    }
}

/// One context of the data, reporting each question to ``MissingNames``.
struct StrictData: MustacheParent, CustomStringConvertible {
    let value: MustacheParent
    /// The dotted name it was found under ("" for the root).
    let path: String
    let id: Int
    let isRoot: Bool
    let log: MissingNames

    func child(named name: String) -> Any? {
        log.asked(id, name)
        guard let found = value.child(named: name) else {
            log.notFound(id, name, path: path(name), isRoot: isRoot)
            return nil
        }
        return log.wrap(found, path: path(name))
    }

    /// The dotted name of a child.
    private func path(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// An object printed as a variable (a template mistake) prints as the value would.
    var description: String { String(describing: value) }
}
