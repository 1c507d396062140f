#!/usr/bin/env bash
# The service-account key set of a control-plane node, and the issuer documents AWS STS reads.
# Publishes the issuer's OpenID discovery document and JWKS to the issuer bucket, where AWS STS
# reads them to trust the cluster's service-account tokens (IRSA). Every control-plane node runs
# it at boot: the documents depend only on the keys, so the same keys give the same bytes, a
# restore that brings back the old sa.key keeps the JWKS, and a replacement node re-publishes it.
# Formats as kube-apiserver serves them itself (pkg/serviceaccount/openidmetadata.go):
# kid = base64url(SHA-256(DER SubjectPublicKeyInfo)), RS256 for RSA, ES256/384/512 for EC keys.
#   service-account-issuer.sh               publish the rotation state's keys, record this node's key set
#   service-account-issuer.sh key-set       write sa.key (in a rotation's sign phase) and the
#                                           verification bundle $KUBE_DIR/$SA_KEY_BUNDLE from SSM
#   service-account-issuer.sh check-signing-key   fail unless sa.key is the key the rotation signs with
#   service-account-issuer.sh render DIR    build into DIR only (tests, inspection)
# The rotation state (service-account-key-rotation.sh writes it, docs/runbooks/service-account-issuer.md):
# $SSM_SA_ROTATION absent (steady: sa.key signs, sa.pub verifies), `announce` (sa.key signs;
# sa.pub and the next key from $SSM_SA_NEXT_KEY verify) or `sign` (the next key signs; it and
# $SSM_SA_PREVIOUS_KEY verify). Extra PEM files in SA_EXTRA_PUBLIC_KEYS (space separated) are published too.
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

# kid FILE: kube-apiserver's key id of the first public or private key in FILE.
kid() {
  openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# split_keys FILE DIR: one file per PEM public key of FILE (DIR/key-N.pem), printed in order.
split_keys() {
  awk -v dir="$2" '/-----BEGIN PUBLIC KEY-----/ { n++; f = sprintf("%s/key-%d.pem", dir, n) } n { print > f } /-----END PUBLIC KEY-----/ { close(f) }' "$1"
  find "$2" -maxdepth 1 -name 'key-*.pem' | sort -t- -k2 -n
}

# rotation_state WORKDIR: sets ROTATION (empty, announce or sign) and writes WORKDIR/next.key and
# WORKDIR/next.pub (announce, sign) and WORKDIR/previous.pub (sign). A failed read stops: a guess
# could drop a key still in use, or sign with one no API server accepts yet.
rotation_state() {
  local work=$1 value status
  ROTATION=
  status=0
  value=$(ssm_get "$SSM_SA_ROTATION") || status=$?
  case $status in
    0) [[ $value == None ]] || ROTATION=$value ;;
    3) ;;
    *) die "reading $SSM_SA_ROTATION failed: the key set cannot be known" ;;
  esac
  case $ROTATION in
    '') return 0 ;;
    announce | sign) ;;
    *) die "$SSM_SA_ROTATION is '$ROTATION': expected announce or sign" ;;
  esac
  status=0
  value=$(ssm_get "$SSM_SA_NEXT_KEY") || status=$?
  if ((status != 0)) || [[ -z $value || $value == None ]]; then die "rotation '$ROTATION' but $SSM_SA_NEXT_KEY cannot be read (exit $status)"; fi
  (umask 077 && printf '%s\n' "$value" >"$work/next.key")
  openssl pkey -in "$work/next.key" -pubout -out "$work/next.pub" 2>/dev/null || die "$SSM_SA_NEXT_KEY holds no private key"
  [[ $ROTATION == sign ]] || return 0
  status=0
  value=$(ssm_get "$SSM_SA_PREVIOUS_KEY") || status=$?
  if ((status != 0)) || [[ -z $value || $value == None ]]; then die "rotation 'sign' but $SSM_SA_PREVIOUS_KEY cannot be read (exit $status)"; fi
  printf '%s\n' "$value" >"$work/previous.pub"
}

# key_files WORKDIR: the public key files the state says are in use, the signing key first.
key_files() {
  local work=$1
  if [[ $ROTATION == sign ]]; then
    printf '%s\n' "$work/next.pub" "$work/previous.pub"
  else
    [[ -s $KUBE_DIR/pki/sa.pub ]] || die "$KUBE_DIR/pki/sa.pub missing: not a control-plane node yet"
    printf '%s\n' "$KUBE_DIR/pki/sa.pub"
    [[ $ROTATION != announce ]] || printf '%s\n' "$work/next.pub"
  fi
  local extras=()
  read -r -a extras <<<"${SA_EXTRA_PUBLIC_KEYS-}"
  ((${#extras[@]} == 0)) || printf '%s\n' "${extras[@]}"
}

# bundle FILE...: the PEM keys once each (the same key twice is one key), in order.
bundle() {
  local file seen=' ' id
  for file in "$@"; do
    id=$(kid "$file") || return 1
    [[ -n $id && $seen != *" $id "* ]] || continue
    seen+="$id "
    openssl pkey -pubin -in "$file" || return 1
  done
}

# replace_file MODE SOURCE TARGET: a reader sees the old file or the new one, never a partial one.
replace_file() {
  install -m "$1" "$2" "$3.new" || die "writing $3 failed"
  mv "$3.new" "$3" || die "writing $3 failed"
}

# Writes sa.key/sa.pub (sign phase: the next key) and the bundle kube-apiserver verifies with,
# each replaced atomically and only when its content changes.
key_set() {
  local files=()
  rotation_state "$WORK"
  if [[ $ROTATION == sign ]] && ! cmp -s "$WORK/next.key" "$KUBE_DIR/pki/sa.key"; then
    step swap-signing-key
    replace_file 600 "$WORK/next.key" "$KUBE_DIR/pki/sa.key"
    replace_file 644 "$WORK/next.pub" "$KUBE_DIR/pki/sa.pub"
    log "sa.key is now the rotation's next key $(kid "$KUBE_DIR/pki/sa.pub")"
  fi
  step key-bundle
  key_files "$WORK" >"$WORK/keys" || exit 1
  mapfile -t files <"$WORK/keys"
  bundle "${files[@]}" >"$WORK/bundle.pub" || die "building the key bundle failed"
  cmp -s "$WORK/bundle.pub" "$KUBE_DIR/$SA_KEY_BUNDLE" || replace_file 644 "$WORK/bundle.pub" "$KUBE_DIR/$SA_KEY_BUNDLE"
  log "key set: phase ${ROTATION:-steady}, signs with $(kid "$KUBE_DIR/pki/sa.pub"), accepts $(bundle_kids "$KUBE_DIR/$SA_KEY_BUNDLE")"
}

# bundle_kids FILE: the key ids of a bundle, comma separated, in order.
bundle_kids() {
  local dir ids=() file
  dir=$(mktemp -d -p "$WORK") || return 1
  while read -r file; do ids+=("$(kid "$file")"); done < <(split_keys "$1" "$dir")
  (IFS=,; printf '%s\n' "${ids[*]}")
}

# running_key_files: the files the kube-apiserver manifest's --service-account-key-file flags name
# (kube-apiserver verifies with the keys of all of them), mapped under $KUBE_DIR.
running_key_files() {
  local manifest=$KUBE_DIR/manifests/kube-apiserver.yaml file found=0
  [[ -s $manifest ]] || die "$manifest missing: not a control-plane node yet"
  while read -r file; do
    file=${file#*=}
    file=${file//[\"\']/}
    [[ $file != /etc/kubernetes/* ]] || file=$KUBE_DIR/${file#/etc/kubernetes/}
    [[ -s $file ]] || die "$file (--service-account-key-file of $manifest) missing"
    printf '%s\n' "$file"
    found=1
  done < <(grep -oE -- '--service-account-key-file=[^[:space:],]+' "$manifest")
  ((found)) || die "$manifest names no --service-account-key-file"
}

# Records in SSM the key set this node's API server runs with (what the key files its manifest
# names held when it started): service-account-key-rotation.sh advances a phase only once every
# node reports it. Not the bundle alone: a node whose manifest lacks the bundle's flag (a cluster
# initialised before it, kubeadm's default sa.pub only) accepts none of its keys.
ack() {
  local value file n=0 keys=()
  running_key_files >"$WORK/running-files" || exit 1
  # One file per key: a file may hold several (the bundle), openssl reads the first only.
  while read -r file; do
    n=$((n + 1))
    mkdir "$WORK/running-$n" || die "mktemp failed"
    mapfile -t -O "${#keys[@]}" keys < <(split_keys "$file" "$WORK/running-$n")
  done <"$WORK/running-files"
  ((${#keys[@]})) || die "the key files of the running kube-apiserver hold no public key"
  bundle "${keys[@]}" >"$WORK/accepted.pub" || die "reading the key files of the running kube-apiserver failed"
  value="signing=$(kid "$KUBE_DIR/pki/sa.pub") accepted=$(bundle_kids "$WORK/accepted.pub")"
  aws_call ssm put-parameter --region "$REGION" --name "$SSM_SA_KEY_ACKS/$(imds instance-id)" --type String --overwrite --value "$value" || die "recording the key set in $SSM_SA_KEY_ACKS failed: $AWS_ERR"
  log "key set recorded: $value"
}

put_document() {
  aws s3api put-object --region "$REGION" --bucket "$SA_ISSUER_BUCKET" --key "$2" --body "$1" --content-type application/json >/dev/null
}

main() {
  local files=()
  WORK=$(mktemp -d) || die "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
  case ${1-} in
    render)
      step render
      local extras=()
      read -r -a extras <<<"${SA_EXTRA_PUBLIC_KEYS-}"
      documents "$2" "$KUBE_DIR/pki/sa.pub" "${extras[@]}" || die "building the discovery documents failed"
      return
      ;;
    key-set)
      step read-keys
      key_set
      return
      ;;
    check-signing-key)
      step check-signing-key
      rotation_state "$WORK"
      if [[ $ROTATION == sign && $(kid "$WORK/next.pub") != "$(kid "$KUBE_DIR/pki/sa.pub")" ]]; then
        die "rotation phase sign: this node still signs with $(kid "$KUBE_DIR/pki/sa.pub"), not $(kid "$WORK/next.pub") (run service-account-key-rotation.sh apply)"
      fi
      return
      ;;
    '') ;;
    *) die "usage: service-account-issuer.sh [key-set|check-signing-key|render DIR]" ;;
  esac
  step read-keys
  rotation_state "$WORK"
  # Into a file, not a process substitution: a failed SSM read must stop the publication.
  key_files "$WORK" >"$WORK/keys" || exit 1
  mapfile -t files <"$WORK/keys"
  step build
  documents "$WORK" "${files[@]}" || die "building the discovery documents failed"
  step publish
  retry 5 put_document "$WORK/jwks.json" "$SA_JWKS_KEY" || die "uploading the JWKS to s3://$SA_ISSUER_BUCKET/$SA_JWKS_KEY failed"
  retry 5 put_document "$WORK/discovery.json" "$SA_DISCOVERY_KEY" || die "uploading the discovery document to s3://$SA_ISSUER_BUCKET/$SA_DISCOVERY_KEY failed"
  log "published $SA_ISSUER_URL ($((${#files[@]})) key file(s), phase ${ROTATION:-steady})"
  step record-key-set
  ack
}

main "$@"
