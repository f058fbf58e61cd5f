export * from './memory-console-port.js';
export * from './serial-far-end.js';
export * from './socat-pty-pair.js';
export * from './ser2net-server.js';
export * from './ipmi-sim.js';
export * from './recording-led-driver.js';
