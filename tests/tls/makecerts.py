"""Makes the tls suite's certificates in the folder given as argument: a
test CA, two server certificates it signs for localhost and 127.0.0.1 (A
and B, for the swap), one for another host, and one that has expired.
Prints JSON: each certificate's files, serial (upper-case hex, as
hq-server logs it) and SPKI hash (base64 SHA-256 of the public key, as
Chromium's --ignore-certificate-errors-spki-list takes it)."""
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = sys.argv[1]
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hqrooms tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def spki(cert):
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def write(path, data, mode=0o644):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode),
              "wb") as f:
        f.write(data)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


ca_key = ec.generate_private_key(ec.SECP256R1())
ca = (x509.CertificateBuilder()
      .subject_name(name("hqrooms test CA")).issuer_name(name("hqrooms test CA"))
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                   False, False), critical=True)
      .sign(ca_key, hashes.SHA256()))
write(os.path.join(OUT, "ca.pem"), ca.public_bytes(serialization.Encoding.PEM))
result = {"ca": {"cert": os.path.join(OUT, "ca.pem"), "spki": spki(ca)}}


def server(label, serial, hosts, ips, not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(h) for h in hosts] + [
        x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            .subject_name(name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path = os.path.join(OUT, f"{label}.pem")
    key_path = os.path.join(OUT, f"{label}-key.pem")
    # The chain as a server sends it: its certificate, then the CA's.
    write(cert_path, cert.public_bytes(serialization.Encoding.PEM)
          + ca.public_bytes(serialization.Encoding.PEM))
    write(key_path, key_pem(key), 0o600)
    result[label] = {"cert": cert_path, "key": key_path,
                     "serial": format(serial, "X"), "spki": spki(cert),
                     "sha256": cert.fingerprint(hashes.SHA256()).hex().upper()}


server("a", 0xA1A1A1, ["localhost"], ["127.0.0.1"], NOW - DAY, NOW + 10 * DAY)
server("b", 0xB2B2B2, ["localhost"], ["127.0.0.1"], NOW - DAY, NOW + 10 * DAY)
server("wronghost", 0xC3C3C3, ["wrong.example"], [], NOW - DAY, NOW + 10 * DAY)
server("expired", 0xD4D4D4, ["localhost"], ["127.0.0.1"], NOW - 20 * DAY,
       NOW - 2 * DAY)
print(json.dumps(result))
