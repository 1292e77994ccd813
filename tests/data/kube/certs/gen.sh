#!/bin/sh
# Regenerate the test PKI of tests/unit/test_kube_client.c and test_kubeconfig.c:
# two CAs, a server certificate for the test HTTPS server and a client
# certificate, EC P-256, valid for 100 years. Test material only: these keys
# are public and protect nothing.
set -eu
cd "$(dirname "$0")"
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

key ca.key
openssl req -x509 -new -key ca.key -days $days -subj "/CN=hnsnetpol-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt
key other-ca.key
openssl req -x509 -new -key other-ca.key -days $days -subj "/CN=hnsnetpol-other-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out other-ca.crt

key server.key
openssl req -new -key server.key -subj "/CN=kube-apiserver" -out server.csr
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:::1" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days $days \
    -extfile server.ext -out server.crt

key client.key
openssl req -new -key client.key -subj "/O=hnsnetpol/CN=hnsnetpol-test-client" -out client.csr
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days $days \
    -extfile client.ext -out client.crt
openssl pkcs12 -export -in client.crt -inkey client.key -passout pass: -out client.p12

rm -f server.csr client.csr server.ext client.ext ca.srl other-ca.key
