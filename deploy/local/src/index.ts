export { startRedis, freePort } from './redis-server.js';
export { ensureSelfSignedCertificates, type HostCertificate } from './certificates.js';
