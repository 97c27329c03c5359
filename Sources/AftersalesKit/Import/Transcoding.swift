import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a file through glibc's iconv: from its encoding into UTF-8 (written to `output`), or only
/// checking that it is valid (no output). Memory stays at one buffer whatever the file's size.
enum Transcoding {
    /// A byte sequence that is not valid in the file's encoding.
    struct Invalid: Error, Equatable {
        /// Bytes from the start of the file before the sequence.
        var offset: Int
        /// Whether the file ends in the middle of a sequence.
        var truncated: Bool
    }

    /// Reads `input` to its end, converting from `encoding`; writes UTF-8 to `output` when given.
    static func convert(_ input: FileHandle, from encoding: ImportEncoding, to output: FileHandle?) throws -> Void {
        try convert(iconvName: encoding.iconvName, read: { try input.read(upToCount: 1 << 16) ?? Data() },
                    write: output.map { output in { try output.write(contentsOf: $0) } })
    }

    /// `bytes` in the encoding iconv knows as `name` (received mail's GBK, GB18030, Big5 parts) as UTF-8,
    /// each invalid sequence as U+FFFD (`invalid` counts them); nil when iconv does not know the encoding.
    static func utf8(_ bytes: [UInt8], fromIconv name: String) -> (utf8: [UInt8], invalid: Int)? {
        var result: [UInt8] = []
        var invalid = 0
        var start = 0
        while start < bytes.count {
            var fed = false
            do {
                try convert(iconvName: name, read: { defer { fed = true }; return fed ? Data() : Data(bytes[start...]) },
                            write: { result.append(contentsOf: $0) })
                break
            } catch let error as Invalid {
                invalid += 1
                result += [0xEF, 0xBF, 0xBD]
                start = error.truncated ? bytes.count : start + error.offset + 1
            } catch {
                return nil
            }
        }
        return (result, invalid)
    }

    /// Converts what `read` gives (an empty chunk: the end) from `iconvName`, passing UTF-8 to `write` when given.
    private static func convert(iconvName: String, read: () throws -> Data, write: ((ArraySlice<UInt8>) throws -> Void)?) throws {
        let cd = iconv_open("UTF-8", iconvName)
        guard cd != iconv_t(bitPattern: -1) else { throw CocoaError(.fileReadUnknownStringEncoding) }
        defer { iconv_close(cd) }
        var pending: [UInt8] = []
        var consumed = 0
        var out = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let chunk = try read()
            let atEnd = chunk.isEmpty
            pending.append(contentsOf: chunk)
            if atEnd && pending.isEmpty { break }
            var start = 0
            let total = pending.count
            while start < total {
                let (used, produced, failure) = pending.withUnsafeMutableBytes { inRaw -> (Int, Int, Int32) in
                    out.withUnsafeMutableBytes { outRaw -> (Int, Int, Int32) in
                        var inPointer: UnsafeMutablePointer<CChar>? = inRaw.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self)
                        var inLeft = total - start
                        var outPointer: UnsafeMutablePointer<CChar>? = outRaw.baseAddress!.assumingMemoryBound(to: CChar.self)
                        var outLeft = outRaw.count
                        let result = iconv(cd, &inPointer, &inLeft, &outPointer, &outLeft)
                        return (total - start - inLeft, outRaw.count - outLeft, result == -1 ? errno : 0)
                    }
                }
                if produced > 0, let write { try write(out[0..<produced]) }
                start += used
                consumed += used
                if failure == E2BIG { continue }
                if failure == EILSEQ { throw Invalid(offset: consumed, truncated: false) }
                if failure == EINVAL {
                    // An incomplete sequence at the end of the buffer: wait for the next chunk.
                    if atEnd { throw Invalid(offset: consumed, truncated: true) }
                    break
                }
                if failure != 0 { throw Invalid(offset: consumed, truncated: false) }
            }
            pending.removeFirst(start)
            if atEnd { break }
        }
    }
}
