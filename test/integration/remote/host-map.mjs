// Test-only preload (node --import): sends TLS connections for chosen host names to loopback ports
// (KFSENSOR_TEST_HOST_MAP="host=port,..."), as an /etc/hosts entry plus a port forward would, so the sample config's
// fixed URLs (command.example.com, login.microsoftonline.com) reach the test's services unchanged. Certificate checks
// still run against the original host name (servername), with the test CA from NODE_EXTRA_CA_CERTS.
import tls from 'node:tls';

const map = new Map(
  (process.env.KFSENSOR_TEST_HOST_MAP ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [host, port] = pair.split('=');
      return [host, Number(port)];
    }),
);
const connect = tls.connect;
tls.connect = function (...args) {
  const options = args[0];
  if (options !== null && typeof options === 'object' && map.has(options.host)) {
    args[0] = {
      ...options,
      host: '127.0.0.1',
      port: map.get(options.host),
      servername: options.servername || options.host,
    };
  }
  return connect.apply(this, args);
};
