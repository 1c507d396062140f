"""A fake S3 GetObject endpoint for fetch-bundle.py: serves ROOT/<bucket>/<key>.<versionId>,
checks the request's SigV4 signature with botocore's own signer (the signature S3 computes for
the headers the request names as signed), answers 503 to the first FAIL_FIRST requests (throttling),
403 to a bad signature, 404 to an unknown version. Prints its port, then serves until killed."""
import http.server, sys, urllib.parse
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

root, region, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
CREDS = Credentials('AKIAFAKEBUNDLE', 'fake-secret-key', 'fake-session-token')
seen = {'n': 0}


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
        request = AWSRequest(method='GET', url=f'http://{self.headers["host"]}{self.path}', headers={h: self.headers[h] for h in signed if h != 'host'})
        request.context['timestamp'] = self.headers.get('x-amz-date', '')
        signer = S3SigV4Auth(CREDS, 's3', region)
        signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not auth.endswith(f'Signature={signature}') or f'Credential={CREDS.access_key}/' not in auth or 'x-amz-security-token' not in signed:
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
