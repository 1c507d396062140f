"""A fake S3 GetObject endpoint for fetch-bundle.py: serves ROOT/<bucket>/<key>.<versionId>,
recomputes the request's SigV4 signature the way S3 documents it (canonical request over the
headers the request names as signed, S3's single URI encoding, the payload hash header), answers
503 to the first FAIL_FIRST requests (throttling), 403 to a bad signature, 404 to an unknown
version. Prints its port, then serves until killed. Python's standard library only: the test runs
before any virtualenv exists (cross-checked against botocore's S3SigV4Auth when it was written)."""
import hashlib, hmac, http.server, sys, urllib.parse

root, region, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
ACCESS_KEY, SECRET_KEY = 'AKIAFAKEBUNDLE', 'fake-secret-key'
seen = {'n': 0}


def expected_signature(method, path, headers, signed, amz_date):
    """SigV4 (AWS General Reference, "Create a signed AWS API request"), as S3 checks it."""
    raw_path, _, query = path.partition('?')
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = '&'.join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in pairs)
    canonical_headers = ''.join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    canonical = '\n'.join([method, urllib.parse.quote(urllib.parse.unquote(raw_path), safe='/-_.~'), canonical_query, canonical_headers, ';'.join(signed), headers['x-amz-content-sha256']])
    scope = f'{amz_date[:8]}/{region}/s3/aws4_request'
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ('AWS4' + SECRET_KEY).encode()
    for part in (amz_date[:8], region, 's3', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


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
