"""Reference sender for `make bench`: Python's smtplib, one connection, every .eml file of a directory."""
import os
import smtplib
import sys

host, port = sys.argv[1].rsplit(":", 1)
directory = sys.argv[2]
sent = 0
with smtplib.SMTP(host, int(port)) as smtp:
    for name in sorted(os.listdir(directory)):
        if name.endswith(".eml"):
            with open(os.path.join(directory, name), "rb") as f:
                smtp.sendmail("aftersales@example.com", ["bench@example.com"], f.read())
            sent += 1
print(sent)
