#!/usr/bin/env bash
# Publishes the service-account issuer's OpenID discovery document and JWKS to the issuer
# bucket, where AWS STS reads them to trust the cluster's service-account tokens (IRSA).
# Every control-plane node runs it at boot: the documents depend only on the keys, so the same
# keys give the same bytes, a restore that brings back the old sa.key keeps the JWKS, and a
# replacement node re-publishes it. Formats as kube-apiserver serves them itself
# (pkg/serviceaccount/openidmetadata.go): kid = base64url(SHA-256(DER SubjectPublicKeyInfo)),
# RS256 for RSA, ES256/384/512 for EC keys.
#   service-account-issuer.sh               build and upload
#   service-account-issuer.sh render DIR    build into DIR only (tests, inspection)
# Keys: $KUBE_DIR/pki/sa.pub (the signing key) first, then during a rotation overlap the
# previous public key from SSM ($SSM_SA_PREVIOUS_KEY; absent outside a rotation), or any
# extra PEM files given in SA_EXTRA_PUBLIC_KEYS (space separated).
set -euo pipefail
# shellcheck source=lib.sh
. "${BOOTSTRAP_LIB:-/opt/node-bootstrap}/lib.sh"
LOG_TAG=node-bootstrap-service-account-issuer
load_env

# documents DIR KEY_FILE...: writes DIR/discovery.json and DIR/jwks.json (compact, no newline).
documents() {
  local dir=$1
  shift
  python3 - "$SA_ISSUER_URL" "$SA_JWKS_URL" "$dir" "$@" <<'PY'
import base64, hashlib, json, subprocess, sys

issuer, jwks_uri, out = sys.argv[1:4]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def tlv(b, i):
    tag, length = b[i], b[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(b[i:i + n], 'big')
        i += n
    return tag, b[i:i + length], i + length


def items(b):
    found, i = [], 0
    while i < len(b):
        tag, value, i = tlv(b, i)
        found.append(value)
    return found


# namedCurve OID (hex) -> JWK crv, JWS alg, coordinate size
CURVES = {'2a8648ce3d030107': ('P-256', 'ES256', 32), '2b81040022': ('P-384', 'ES384', 48), '2b81040023': ('P-521', 'ES512', 66)}
keys, seen = [], set()
for path in sys.argv[4:]:
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-in', path, '-outform', 'DER'], check=True, capture_output=True).stdout
    if der in seen:
        continue
    seen.add(der)
    algorithm, bits = items(items(der)[0])
    oid = items(algorithm)
    point = bits[1:]
    kid = b64(hashlib.sha256(der).digest())
    if oid[0].hex() == '2a864886f70d010101':
        n, e = items(items(point)[0])
        keys.append({'use': 'sig', 'kty': 'RSA', 'kid': kid, 'alg': 'RS256', 'n': b64(n.lstrip(b'\0')), 'e': b64(e.lstrip(b'\0'))})
    elif oid[0].hex() == '2a8648ce3d0201' and oid[1].hex() in CURVES:
        crv, alg, size = CURVES[oid[1].hex()]
        keys.append({'use': 'sig', 'kty': 'EC', 'kid': kid, 'crv': crv, 'alg': alg, 'x': b64(point[1:1 + size]), 'y': b64(point[1 + size:])})
    else:
        sys.exit(f'{path}: not an RSA or P-256/384/521 EC public key')
compact = lambda doc: json.dumps(doc, separators=(',', ':'))
discovery = {
    'issuer': issuer,
    'jwks_uri': jwks_uri,
    'response_types_supported': ['id_token'],
    'subject_types_supported': ['public'],
    'id_token_signing_alg_values_supported': sorted({k['alg'] for k in keys}),
}
with open(f'{out}/discovery.json', 'w') as f:
    f.write(compact(discovery))
with open(f'{out}/jwks.json', 'w') as f:
    f.write(compact({'keys': keys}))
PY
}

# key_files WORKDIR: prints the public key files to publish, the signing key first.
key_files() {
  local work=$1 previous status=0
  [[ -s $KUBE_DIR/pki/sa.pub ]] || die "$KUBE_DIR/pki/sa.pub missing: not a control-plane node yet"
  printf '%s\n' "$KUBE_DIR/pki/sa.pub"
  previous=$(ssm_get "$SSM_SA_PREVIOUS_KEY") || status=$?
  case $status in
    0) [[ -z $previous || $previous == None ]] || { printf '%s\n' "$previous" >"$work/previous.pub" && printf '%s\n' "$work/previous.pub"; } ;;
    3) ;;
    *) die "reading $SSM_SA_PREVIOUS_KEY failed: publishing without it could drop a key still in use" ;;
  esac
  local extras=()
  read -r -a extras <<<"${SA_EXTRA_PUBLIC_KEYS-}"
  ((${#extras[@]} == 0)) || printf '%s\n' "${extras[@]}"
}

put_document() {
  aws s3api put-object --region "$REGION" --bucket "$SA_ISSUER_BUCKET" --key "$2" --body "$1" --content-type application/json >/dev/null
}

main() {
  local files=()
  WORK=$(mktemp -d) || die "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
  if [[ ${1-} == render ]]; then
    step render
    local extras=()
    read -r -a extras <<<"${SA_EXTRA_PUBLIC_KEYS-}"
    documents "$2" "$KUBE_DIR/pki/sa.pub" "${extras[@]}" || die "building the discovery documents failed"
    return
  fi
  step read-keys
  # Into a file, not a process substitution: a failed SSM read must stop the publication.
  key_files "$WORK" >"$WORK/keys" || exit 1
  mapfile -t files <"$WORK/keys"
  step build
  documents "$WORK" "${files[@]}" || die "building the discovery documents failed"
  step publish
  retry 5 put_document "$WORK/jwks.json" "$SA_JWKS_KEY" || die "uploading the JWKS to s3://$SA_ISSUER_BUCKET/$SA_JWKS_KEY failed"
  retry 5 put_document "$WORK/discovery.json" "$SA_DISCOVERY_KEY" || die "uploading the discovery document to s3://$SA_ISSUER_BUCKET/$SA_DISCOVERY_KEY failed"
  log "published $SA_ISSUER_URL ($((${#files[@]})) key file(s))"
}

main "$@"
