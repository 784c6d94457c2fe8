// `node --import loopwatch/register`: the same side effect as the CommonJS entry.
import './register.js';
