#!/usr/bin/env bash
# 09_tls/certs.sh — the certificates chapter 9 needs, made with Debian's own
# `openssl` command into one directory (default build/certs/): `make certs`.
#
#   ca.crt / ca.key              a private certificate authority (CA)
#   server.crt / server.key      localhost + IP 127.0.0.1 (subjectAltName), signed by the CA
#   wrong-name.crt / .key        signed by the CA, but for "wrong.example" only
#   expired.crt / .key           localhost + 127.0.0.1, signed by the CA, valid in 2020 only
#   client.crt / client.key      a client certificate (Redis's tls-auth-clients yes)
#   other-ca.crt / .key          a second CA that signed nothing of ours
#   untrusted.crt / .key         localhost + 127.0.0.1, signed by other-ca (untrusted by ca.crt)
#
# Idempotent: a file that exists is kept, so a second run changes nothing and
# servers already running keep matching keys. Remove the directory to start over.
# OpenSSL 3.0's `x509 -req` cannot date a certificate in the past (-not_after
# came in 3.2), so the expired one is signed by `openssl ca`, which takes
# -startdate and -enddate.
set -eu
dir=${1:-build/certs}
mkdir -p "$dir"
cd "$dir"
[ -f .done ] && exit 0
export OPENSSL_CONF=/dev/null # no system config: the same on every machine

key() { [ -f "$1.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() { # NAME SUBJECT
    key "$1"
    [ -f "$1.crt" ] || openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.crt"
}

# leaf NAME CA SUBJECT SAN EXTKEYUSAGE: a certificate signed by CA, valid ten years
leaf() {
    local name=$1 ca=$2 cn=$3 san=$4 usage=$5
    key "$name"
    [ -f "$name.crt" ] && return 0
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\nextendedKeyUsage=%s\n' "$san" "$usage" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
        -days 3650 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}

# expired: `openssl ca` with an explicit validity in the past
expired() {
    key expired
    [ -f expired.crt ] && return 0
    mkdir -p ca-db
    : >ca-db/index.txt
    [ -f ca-db/serial ] || echo 1000 >ca-db/serial
    cat >ca-db/ca.cnf <<CNF
[ ca ]
default_ca = workbook
[ workbook ]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = leaf
[ anything ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
    openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
    openssl ca -batch -notext -config ca-db/ca.cnf -startdate 20200101000000Z \
        -enddate 20200201000000Z -in expired.csr -out expired.crt 2>/dev/null
    rm -rf expired.csr ca-db
}

ca ca "workbook chapter 9 CA"
ca other-ca "some other CA"
leaf server ca localhost "DNS:localhost,IP:127.0.0.1" serverAuth
leaf wrong-name ca wrong.example "DNS:wrong.example" serverAuth
leaf untrusted other-ca localhost "DNS:localhost,IP:127.0.0.1" serverAuth
leaf client ca "workbook client" "DNS:workbook-client" clientAuth
expired
chmod 600 ./*.key
rm -f ./*.srl
touch .done
echo "certs: made in $dir: ca.crt server.crt wrong-name.crt expired.crt untrusted.crt other-ca.crt client.crt (and their keys)"
