#!/usr/bin/env python3
"""Independent check of messages written by aftersales, with Python's email package.

Usage: check_mail.py MANIFEST.json
The manifest lists messages: {"path", "subject", "to_name", "parts": [...], "attachments": [...]}.
For each: parse with policy.strict, require no defects anywhere, CRLF line endings only, no line
over 998 octets and no header line over 78, the subject and the To display name decoding back
to the expected Unicode, the expected MIME parts and attachments. Prints one line per problem
and exits 1 if there is any.
"""
import email
import json
import sys
from email import policy

problems = []
manifest = json.load(open(sys.argv[1], encoding="utf-8"))
for item in manifest:
    path = item["path"]
    raw = open(path, "rb").read()
    def bad(text):
        problems.append(f"{path}: {text}")
    if b"\n" in raw.replace(b"\r\n", b"") or b"\r" in raw.replace(b"\r\n", b""):
        bad("bare CR or LF")
    lines = raw.split(b"\r\n")
    if max(len(l) for l in lines) > 998:
        bad("line over 998 octets")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    for line in head:
        if len(line) > 78:
            bad(f"header line over 78: {line[:60]!r}")
    try:
        msg = email.message_from_bytes(raw, policy=policy.strict)
    except Exception as error:  # policy.strict raises on defects
        bad(f"does not parse strictly: {error}")
        continue
    for part in msg.walk():
        if part.defects:
            bad(f"defects in {part.get_content_type()}: {part.defects}")
    if "Bcc" in msg:
        bad("has a Bcc header")
    for header in ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Auto-Submitted", "In-Reply-To", "References"]:
        if header not in msg:
            bad(f"missing {header}")
    if str(msg["Subject"]) != item["subject"]:
        bad(f"subject decodes to {str(msg['Subject'])!r}, expected {item['subject']!r}")
    to = msg["To"].addresses
    if item.get("to_name") is not None and (len(to) != 1 or to[0].display_name != item["to_name"]):
        bad(f"To decodes to {[a.display_name for a in to]!r}, expected {item['to_name']!r}")
    if item.get("marketing"):
        # RFC 8058: one-click POST only with an https URI; without one (links off) a mailto alone, no Post header.
        unsubscribe = str(msg.get("List-Unsubscribe", ""))
        if "<mailto:" not in unsubscribe:
            bad("marketing mail without a mailto List-Unsubscribe")
        if ("<https://" in unsubscribe) != (msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"):
            bad("List-Unsubscribe-Post goes with an https List-Unsubscribe, and only with one")
    types = [p.get_content_type() for p in msg.walk()]
    for expected in item.get("parts", []):
        if expected not in types:
            bad(f"no {expected} part (has {types})")
    names = [p.get_filename() for p in msg.walk() if p.get_content_disposition() == "attachment"]
    for expected in item.get("attachments", []):
        if expected not in names:
            bad(f"no attachment {expected!r} (has {names})")
    for needle in item.get("html_contains", []):
        html = msg.get_body(("html",))
        if html is None or needle not in html.get_content():
            bad(f"HTML does not contain {needle!r}")
    for needle in item.get("text_contains", []):
        text = msg.get_body(("plain",))
        if text is None or needle not in text.get_content():
            bad(f"text does not contain {needle!r}")
for p in problems:
    print(p)
print(f"checked {len(manifest)} messages: {len(problems)} problems")
sys.exit(1 if problems else 0)
