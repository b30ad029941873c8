import Foundation
import Linalg

/// The `--json` text of a `Codable` result: the value is encoded into the Foundation object tree
/// (`[String: Any]`, `[Any]`, `Double`, `Int`, `String`, `Bool`, …) and printed by `JSONOutput.string`, so a
/// result struct prints exactly the bytes the `[String: Any]` dictionary it replaces printed (sorted keys, no
/// spaces, non-finite numbers as `null`) provided each field keeps the Swift type of the dictionary value it
/// replaces (`Double` stays `Double`, `UInt64` stays `UInt64`): the values go into the tree as they are, with no
/// text round trip (which would change the last digit `JSONSerialization` prints for some numbers). An optional
/// that is nil is left out (as a key that was never set), not written as `null`; an explicit `encodeNil` is `null`.
/// Key order is irrelevant: `JSONOutput.string` sorts keys. The one encoder of the CLI's `--json` objects and of
/// the library reports (MultiTargetISAC `summary.json`, `meta.json`); issue 12.
public enum ResultJSON {
    /// `JSONOutput.string` of `value`'s object tree: one line, or indented with `pretty`.
    public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        try JSONOutput.string(try tree(value), pretty: pretty)
    }

    /// The Foundation object tree of an `Encodable` value; any other value (an existing `[String: Any]`
    /// result of a library or of another command's merge) is returned as it is.
    public static func tree(_ value: Any) throws -> Any {
        guard let e = value as? any Encodable else { return value }
        return try TreeEncoding.box(e, path: [])
    }

    /// The tree of `value` as a JSON object (for code that reads fields back, e.g. the merge's text summary).
    public static func object(_ value: Any) throws -> [String: Any] {
        guard let o = try tree(value) as? [String: Any] else {
            throw ISACError.io("internal: a result did not encode to a JSON object")
        }
        return o
    }
}

/// A tree under construction: containers are reference nodes until `resolved`.
private final class TreeSlot {
    var content: Any = NSNull()
    var resolved: Any {
        switch content {
        case let o as TreeObject: return o.fields.mapValues { ($0 as? TreeSlot)?.resolved ?? $0 }
        case let a as TreeArray: return a.items.map { ($0 as? TreeSlot)?.resolved ?? $0 }
        default: return content
        }
    }
}
private final class TreeObject { var fields: [String: Any] = [:] }
private final class TreeArray { var items: [Any] = [] }

private enum TreeEncoding {
    /// Leaves stay the values they are; everything else is encoded through `TreeEncoder` into a fresh slot.
    static func box(_ value: any Encodable, path: [CodingKey]) throws -> Any {
        switch value {
        case let v as String: return v
        case let v as Bool: return v
        case let v as Double: return v
        case let v as Float: return v
        case let v as Int: return v
        case let v as Int8: return v
        case let v as Int16: return v
        case let v as Int32: return v
        case let v as Int64: return v
        case let v as UInt: return v
        case let v as UInt8: return v
        case let v as UInt16: return v
        case let v as UInt32: return v
        case let v as UInt64: return v
        default:
            let slot = TreeSlot()
            try value.encode(to: TreeEncoder(slot: slot, codingPath: path))
            return slot.resolved
        }
    }
}

private struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

private struct TreeEncoder: Encoder {
    let slot: TreeSlot
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let o: TreeObject
        if let existing = slot.content as? TreeObject { o = existing } else { o = TreeObject(); slot.content = o }
        return KeyedEncodingContainer(TreeKeyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        let a: TreeArray
        if let existing = slot.content as? TreeArray { a = existing } else { a = TreeArray(); slot.content = a }
        return TreeUnkeyed(array: a, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { TreeSingle(slot: slot, codingPath: codingPath) }
}

private struct TreeKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: TreeObject
    var codingPath: [CodingKey]

    private func put(_ v: Any, _ key: Key) { object.fields[key.stringValue] = v }
    mutating func encodeNil(forKey key: Key) throws { put(NSNull(), key) }
    mutating func encode(_ v: Bool, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: String, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Double, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Float, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int8, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int16, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int32, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: Int64, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt8, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt16, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt32, forKey key: Key) throws { put(v, key) }
    mutating func encode(_ v: UInt64, forKey key: Key) throws { put(v, key) }
    mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws { put(try TreeEncoding.box(v, path: codingPath + [key]), key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let slot = TreeSlot(); object.fields["super"] = slot
        return TreeEncoder(slot: slot, codingPath: codingPath + [TreeKey(stringValue: "super")])
    }
    mutating func superEncoder(forKey key: Key) -> Encoder {
        let slot = TreeSlot(); put(slot, key)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key])
    }
}

private struct TreeUnkeyed: UnkeyedEncodingContainer {
    let array: TreeArray
    var codingPath: [CodingKey]
    var count: Int { array.items.count }

    private func add(_ v: Any) { array.items.append(v) }
    private var nextKey: CodingKey { TreeKey(intValue: array.items.count) }
    mutating func encodeNil() throws { add(NSNull()) }
    mutating func encode(_ v: Bool) throws { add(v) }
    mutating func encode(_ v: String) throws { add(v) }
    mutating func encode(_ v: Double) throws { add(v) }
    mutating func encode(_ v: Float) throws { add(v) }
    mutating func encode(_ v: Int) throws { add(v) }
    mutating func encode(_ v: Int8) throws { add(v) }
    mutating func encode(_ v: Int16) throws { add(v) }
    mutating func encode(_ v: Int32) throws { add(v) }
    mutating func encode(_ v: Int64) throws { add(v) }
    mutating func encode(_ v: UInt) throws { add(v) }
    mutating func encode(_ v: UInt8) throws { add(v) }
    mutating func encode(_ v: UInt16) throws { add(v) }
    mutating func encode(_ v: UInt32) throws { add(v) }
    mutating func encode(_ v: UInt64) throws { add(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { add(try TreeEncoding.box(v, path: codingPath + [nextKey])) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder {
        let key = nextKey, slot = TreeSlot(); add(slot)
        return TreeEncoder(slot: slot, codingPath: codingPath + [key])
    }
}

private struct TreeSingle: SingleValueEncodingContainer {
    let slot: TreeSlot
    var codingPath: [CodingKey]

    private func set(_ v: Any) { slot.content = v }
    mutating func encodeNil() throws { set(NSNull()) }
    mutating func encode(_ v: Bool) throws { set(v) }
    mutating func encode(_ v: String) throws { set(v) }
    mutating func encode(_ v: Double) throws { set(v) }
    mutating func encode(_ v: Float) throws { set(v) }
    mutating func encode(_ v: Int) throws { set(v) }
    mutating func encode(_ v: Int8) throws { set(v) }
    mutating func encode(_ v: Int16) throws { set(v) }
    mutating func encode(_ v: Int32) throws { set(v) }
    mutating func encode(_ v: Int64) throws { set(v) }
    mutating func encode(_ v: UInt) throws { set(v) }
    mutating func encode(_ v: UInt8) throws { set(v) }
    mutating func encode(_ v: UInt16) throws { set(v) }
    mutating func encode(_ v: UInt32) throws { set(v) }
    mutating func encode(_ v: UInt64) throws { set(v) }
    mutating func encode<T: Encodable>(_ v: T) throws { set(try TreeEncoding.box(v, path: codingPath)) }
}
