import CCurl
import Foundation

extension CurlSMTPTransport {
    /// Connects as a send would (EHLO, STARTTLS as configured, AUTH) and sends only a NOOP: no mail
    /// transaction begins. Nil when the server answered; otherwise what failed, as a send would say it.
    public func probe() -> String? {
        let session = Session(self)
        defer { session.close() }
        guard let handle = session.handle else { return "libcurl could not create a handle" }
        session.configure(handle)
        session.exchange.reset(Data())
        // A command instead of a mail: no MAIL FROM, no RCPT, no DATA; its reply is discarded.
        _ = aftersales_curl_setopt_long(handle, CURLOPT_UPLOAD, 0)
        _ = aftersales_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, "NOOP")
        _ = aftersales_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, discardCallback)
        let result = curl_easy_perform(handle)
        var code = 0
        _ = aftersales_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        switch Session.classify(result, code: code, exchange: session.exchange, error: String(cString: curl_easy_strerror(result))) {
        case .accepted: return nil
        case .connectionFailed(let why), .transient(let why), .unknown(let why), .permanent(let why, _): return why
        }
    }
}

/// The reply text of the probe's command goes nowhere (libcurl would print it to stdout).
private let discardCallback: aftersales_curl_data_callback = { _, size, count, _ in size * count }
