export { startRedis, freePort } from './redis-server.js';
