/// A result column as the server describes it, before any row is read.
public struct PostgresColumn: Sendable, Equatable {
    public var name: String
    /// The type's OID; `kind` is what callers usually need.
    public var typeOID: UInt32

    public init(name: String, typeOID: UInt32) {
        self.name = name
        self.typeOID = typeOID
    }

    /// The broad kind of value the column holds.
    public enum Kind: Sendable, Equatable {
        case integer, floatingPoint, numeric, boolean, text, other
    }

    public var kind: Kind {
        switch typeOID {
        case 20, 21, 23: .integer  // int8, int2, int4
        case 700, 701: .floatingPoint  // float4, float8
        case 1700: .numeric
        case 16: .boolean
        case 25, 1042, 1043, 19: .text  // text, bpchar, varchar, name
        default: .other
        }
    }
}
