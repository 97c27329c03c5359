#!/usr/bin/python3
"""Test SMTP servers for aftersales, on 127.0.0.1 and a free port.

  smtp_server.py real DIR [--tls CERT KEY] [--auth USER PASS] [--xoauth2 USER TOKEN] [--port N]
      aiosmtpd (Debian's python3-aiosmtpd): STARTTLS required when --tls is given, AUTH when --auth
      is given. With --port it listens on N and, like a daemon, stops only on SIGTERM
      (then it creates DIR/stopped). Every accepted transaction is written to DIR/NNNNN.eml, and a line of JSON
      {"from", "rcpt", "file", "message_id"} is appended to DIR/log.jsonl.
  smtp_server.py fault MODE DIR
      A scripted server that misbehaves in one way: greeting421, rcpt451, rcpt550, data452,
      data552, data554, drop-mid-data, no-answer-after-dot, slow, auth-refused, tls-refused.
      Transactions it accepts are logged like the real one.

Prints "PORT <n>" on the first line of stdout once listening; stops on SIGTERM or when stdin closes.
"""
import asyncio
import email
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)

    def record(self, mail_from, rcpt, content):
        with self.lock:
            self.count += 1
            name = "%05d.eml" % self.count
            with open(os.path.join(self.directory, name), "wb") as f:
                f.write(content)
            message = email.message_from_bytes(content)
            with open(os.path.join(self.directory, "log.jsonl"), "a") as log:
                log.write(json.dumps({"from": mail_from, "rcpt": rcpt, "file": name,
                                      "message_id": message.get("Message-ID")}) + "\n")
                log.flush()
                os.fsync(log.fileno())


def run_real(directory, tls, auth, xoauth2=None, port=None):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    recorder = Recorder(directory)

    class Handler:
        async def auth_XOAUTH2(self, server, args):
            """XOAUTH2 (RFC 7628 style): base64 of "user=U^Aauth=Bearer T^A^A"."""
            import base64
            try:
                if len(args) >= 2:
                    decoded = base64.b64decode(args[1]).decode()
                else:
                    # No initial response: ask for it with an empty challenge.
                    response = await server.challenge_auth("")
                    decoded = response.decode() if isinstance(response, bytes) else ""
            except Exception:
                return AuthResult(success=False, handled=False)
            ok = xoauth2 is not None and decoded == "user=%s\x01auth=Bearer %s\x01\x01" % (xoauth2[0], xoauth2[1])
            return AuthResult(success=ok, handled=False, auth_data=decoded)

        async def handle_DATA(self, server, session, envelope):
            recorder.record(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
            return "250 2.0.0 Ok: queued as %05d" % recorder.count

    kwargs = {}
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls[0], tls[1])
        kwargs.update(tls_context=context, require_starttls=True)
    if xoauth2 and not auth:
        kwargs.update(authenticator=lambda *a: AuthResult(success=False), auth_required=True, auth_require_tls=bool(tls))
    if auth:
        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == auth[0] and data.password.decode() == auth[1]
            return AuthResult(success=ok)
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(tls))
    daemon = port is not None
    port = port or free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=False, **kwargs)
    controller.start()
    print("PORT %d" % port, flush=True)
    wait_for_stop(watch_stdin=not daemon)
    controller.stop()
    if daemon:
        open(os.path.join(directory, "stopped"), "w").close()


def run_fault(mode, directory):
    recorder = Recorder(directory)

    async def session(reader, writer):
        with open(os.path.join(directory, "sessions.log"), "a") as log:
            log.write("session\n")
        def send(line):
            writer.write((line + "\r\n").encode())
        if mode == "greeting421":
            send("421 4.3.2 Service not available, closing channel")
            await writer.drain()
            writer.close()
            return
        send("220 fault.test ESMTP")
        await writer.drain()
        mail_from, rcpt = None, []
        while True:
            line = await reader.readline()
            if not line:
                break
            command = line.decode(errors="replace").strip()
            verb = command.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                lines = ["250-fault.test", "250-8BITMIME", "250-AUTH PLAIN LOGIN", "250 SIZE 10000000"]
                for l in lines:
                    send(l)
            elif verb == "AUTH":
                send("535 5.7.8 Authentication credentials invalid" if mode == "auth-refused" else "235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                mail_from, rcpt = command[10:].strip("<> "), []
                send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mode == "rcpt451":
                    send("451 4.3.0 Try again later")
                elif mode == "rcpt550":
                    send("550 5.1.1 No such user here")
                else:
                    rcpt.append(command[8:].strip("<> "))
                    send("250 2.1.5 Ok")
            elif verb == "DATA":
                send("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                data = b""
                lines_read = 0
                while True:
                    chunk = await reader.readline()
                    if not chunk:
                        return
                    lines_read += 1
                    if mode == "drop-mid-data" and lines_read == 5:
                        writer.transport.abort()
                        return
                    if chunk == b".\r\n":
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]
                    data += chunk
                if mode == "no-answer-after-dot":
                    await asyncio.sleep(3600)
                    return
                if mode == "slow":
                    await asyncio.sleep(1.5)
                if mode in ("data452", "data552", "data554"):
                    code = mode[4:]
                    send({"452": "452 4.3.1 Insufficient system storage", "552": "552 5.3.4 Message too big",
                          "554": "554 5.7.1 Message rejected as spam"}[code])
                else:
                    recorder.record(mail_from, rcpt, data)
                    send("250 2.0.0 Ok: queued as %05d" % recorder.count)
            elif verb == "RSET":
                send("250 2.0.0 Ok")
            elif verb == "NOOP":
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                await writer.drain()
                writer.close()
                return
            else:
                send("502 5.5.2 Command not recognized")
            await writer.drain()

    async def main():
        port = free_port()
        server = await asyncio.start_server(session, "127.0.0.1", port)
        print("PORT %d" % port, flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(1) else None)
        await stop.wait()
        server.close()

    asyncio.run(main())


def wait_for_stop(watch_stdin=True):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    def stdin_watch():
        while sys.stdin.buffer.read1(1):
            pass
        stop.set()
    if watch_stdin:
        threading.Thread(target=stdin_watch, daemon=True).start()
    while not stop.is_set():
        time.sleep(0.1)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[0] == "real":
        directory = args[1]
        tls = auth = xoauth2 = port = None
        rest = args[2:]
        while rest:
            if rest[0] == "--tls":
                tls, rest = rest[1:3], rest[3:]
            elif rest[0] == "--auth":
                auth, rest = rest[1:3], rest[3:]
            elif rest[0] == "--xoauth2":
                xoauth2, rest = rest[1:3], rest[3:]
            elif rest[0] == "--port":
                port, rest = int(rest[1]), rest[2:]
            else:
                sys.exit("unknown option " + rest[0])
        run_real(directory, tls, auth, xoauth2, port)
    else:
        run_fault(args[1], args[2])
