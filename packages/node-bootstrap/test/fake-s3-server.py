"""A fake S3 GetObject endpoint. For fetch-bundle.py: serves ROOT/<bucket>/<key>.<versionId>,
recomputes the request's SigV4 signature the way S3 documents it (canonical request over the
headers the request names as signed, S3's single URI encoding, the payload hash header), answers
503 to the first FAIL_FIRST requests (throttling), 403 to a bad signature, 404 to an unknown
version. For etcd-restore.sh apply: a pre-signed URL (SigV4 in the query string: every X-Amz-*
parameter but the signature in the canonical query, the host header signed, UNSIGNED-PAYLOAD)
serves ROOT/<bucket>/<key>, 403 once X-Amz-Date + X-Amz-Expires has passed, and 403 AccessDenied
when the signer is not allowed to read (S3 reads, and KMS decrypts, with the signer's permission:
only the restore role's key may). Prints its port, then serves until killed. Python's standard
library only: the test runs before any virtualenv exists (the header form was cross-checked
against botocore's S3SigV4Auth; the restore test signs its URLs with the real AWS CLI)."""
import calendar, hashlib, hmac, http.server, sys, time, urllib.parse

root, region, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
ACCESS_KEY, SECRET_KEY = 'AKIAFAKEBUNDLE', 'fake-secret-key'
# Pre-signed URLs: every known signer, and the ones IAM lets read snapshots (the restore role).
SECRETS = {ACCESS_KEY: SECRET_KEY, 'ASIAFAKERESTOREROLE': 'fake-restore-secret'}
READERS = {'ASIAFAKERESTOREROLE'}
seen = {'n': 0}


def signature(secret, amz_date, scope_region, canonical):
    scope = f'{amz_date[:8]}/{scope_region}/s3/aws4_request'
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ('AWS4' + secret).encode()
    for part in (amz_date[:8], scope_region, 's3', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def canonical_query(pairs):
    return '&'.join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def canonical_uri(raw_path):
    return urllib.parse.quote(urllib.parse.unquote(raw_path), safe='/-_.~')


def expected_signature(method, path, headers, signed, amz_date):
    """SigV4 (AWS General Reference, "Create a signed AWS API request"), as S3 checks it."""
    raw_path, _, query = path.partition('?')
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    canonical_headers = ''.join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    canonical = '\n'.join([method, canonical_uri(raw_path), canonical_query(pairs), canonical_headers, ';'.join(signed), headers['x-amz-content-sha256']])
    return signature(SECRET_KEY, amz_date, region, canonical)


def presigned_problem(path, headers):
    """Why S3 refuses this pre-signed GET (S3 "Authenticating requests: using query parameters"), or None."""
    raw_path, _, query = path.partition('?')
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    q = dict(pairs)
    if q.get('X-Amz-Algorithm') != 'AWS4-HMAC-SHA256' or 'X-Amz-Credential' not in q or 'X-Amz-Date' not in q or 'X-Amz-Expires' not in q:
        return 'AuthorizationQueryParametersError'
    key_id, _, scope = q['X-Amz-Credential'].partition('/')
    scope_region = scope.split('/')[1] if scope.count('/') == 3 else ''
    if key_id not in SECRETS or scope_region != region:
        return 'InvalidAccessKeyId'
    signed = q.get('X-Amz-SignedHeaders', '').split(';')
    if 'host' not in signed or not all(h in headers for h in signed):
        return 'SignatureDoesNotMatch'
    canonical_headers = ''.join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    unsigned = [(k, v) for k, v in pairs if k != 'X-Amz-Signature']
    canonical = '\n'.join(['GET', canonical_uri(raw_path), canonical_query(unsigned), canonical_headers, ';'.join(signed), 'UNSIGNED-PAYLOAD'])
    if not hmac.compare_digest(q.get('X-Amz-Signature', ''), signature(SECRETS[key_id], q['X-Amz-Date'], region, canonical)):
        return 'SignatureDoesNotMatch'
    issued = calendar.timegm(time.strptime(q['X-Amz-Date'], '%Y%m%dT%H%M%SZ'))
    if time.time() > issued + int(q['X-Amz-Expires']):
        return 'AccessDenied: Request has expired'
    if key_id not in READERS:
        return 'AccessDenied'
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body=b''):
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        seen['n'] += 1
        with open(f'{root}/requests.log', 'a') as log:
            log.write(f"{self.path} {self.headers.get('Authorization', '-')}\n")
        if seen['n'] <= fail_first:
            return self.answer(503, b'SlowDown')
        if 'X-Amz-Signature=' in self.path:
            problem = presigned_problem(self.path, {h.lower(): v for h, v in self.headers.items()})
            with open(f'{root}/requests.log', 'a') as log:
                log.write(f"  -> {problem or 'OK'}\n")
            if problem:
                return self.answer(403, problem.encode())
            try:
                with open(f"{root}{urllib.parse.unquote(self.path.partition('?')[0])}", 'rb') as f:
                    return self.answer(200, f.read())
            except FileNotFoundError:
                return self.answer(404, b'NoSuchKey')
        auth = self.headers.get('Authorization', '')
        signed = auth.split('SignedHeaders=')[1].split(',')[0].split(';') if 'SignedHeaders=' in auth else []
        headers = {h.lower(): v for h, v in self.headers.items()}
        complete = all(h in headers for h in signed) and 'x-amz-content-sha256' in headers and 'x-amz-date' in headers
        signature = expected_signature('GET', self.path, headers, signed, headers.get('x-amz-date', '')) if complete else None
        if signature is None or not auth.endswith(f'Signature={signature}') or f'Credential={ACCESS_KEY}/' not in auth or 'x-amz-security-token' not in signed:
            return self.answer(403, b'SignatureDoesNotMatch')
        path, _, query = self.path.partition('?')
        version = urllib.parse.parse_qs(query).get('versionId', [''])[0]
        try:
            with open(f'{root}{path}.{version}', 'rb') as f:
                return self.answer(200, f.read())
        except FileNotFoundError:
            return self.answer(404, b'NoSuchVersion')


server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
