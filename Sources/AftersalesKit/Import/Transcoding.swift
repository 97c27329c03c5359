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
        let cd = iconv_open("UTF-8", encoding.iconvName)
        guard cd != iconv_t(bitPattern: -1) else { throw CocoaError(.fileReadUnknownStringEncoding) }
        defer { iconv_close(cd) }
        var pending: [UInt8] = []
        var consumed = 0
        var out = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let chunk = try input.read(upToCount: 1 << 16) ?? Data()
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
                if produced > 0, let output { try output.write(contentsOf: out[0..<produced]) }
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
