/**
 * `loopwatch/fastify`: a Fastify plugin that answers 503 with `Retry-After` while the app is
 * under pressure, as `@fastify/under-pressure` does, decided by the monitor worker's view of the
 * loop (right on the first request after a block) and with the limits of `start({ pressure })`.
 * @example
 *   const fastify = require('fastify')();
 *   fastify.register(require('loopwatch/fastify'));
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { resolveShed, runHook } from '../main/respond.js';
import type { PressureState, ShedOptions } from '../types.js';

export interface LoopwatchFastifyOptions extends ShedOptions {
  /**
   * Called instead of the 503 while under pressure, with the reasons (`pressureHandler` of
   * under-pressure). When it has sent a reply (or its promise resolves after sending one), that
   * is the answer; when it has not, the request goes on as if nothing happened. A throw or a
   * rejection sends the 503 and is reported once as a process warning.
   */
  readonly onPressure?: ((request: FastifyRequest, reply: FastifyReply, state: PressureState) => unknown) | undefined;
}

const ENTRY = 'loopwatch/fastify';

/**
 * The plugin. Registered without encapsulation (`Symbol.for('skip-override')`, what
 * `fastify-plugin` sets), so its `onRequest` hook covers the routes of the instance it is
 * registered on, not only those of its own child context.
 */
const fastifyLoopwatch: FastifyPluginCallback<LoopwatchFastifyOptions> = (instance, options, done) => {
  let shed: ReturnType<typeof resolveShed>;
  try {
    shed = resolveShed(options, ENTRY, false);
  } catch (error) {
    done(error as Error);
    return;
  }
  const onPressure = options.onPressure;
  const refuse = (reply: FastifyReply, state: PressureState): void => {
    const answer = shed.answer(state);
    void reply.code(answer.status).headers(answer.headers).send(answer.text);
  };
  instance.addHook('onRequest', (request, reply, next) => {
    const state = shed.state();
    if (!state.underPressure) {
      next();
      return;
    }
    if (onPressure === undefined) {
      refuse(reply, state);
      return;
    }
    const failed = (error: unknown): void => {
      shed.warnOnce(error);
      if (!reply.sent) refuse(reply, state);
    };
    const after = (): void => {
      if (!reply.sent) next();
    };
    runHook(() => onPressure(request, reply, state), after, failed);
  });
  done();
};

Object.defineProperties(fastifyLoopwatch, {
  [Symbol.for('skip-override')]: { value: true },
  [Symbol.for('fastify.display-name')]: { value: 'loopwatch' },
  [Symbol.for('plugin-meta')]: { value: { name: 'loopwatch', fastify: '4.x || 5.x' } },
});

export { fastifyLoopwatch };
export default fastifyLoopwatch;
export type { PressureReason, PressureState, ShedOptions } from '../types.js';
