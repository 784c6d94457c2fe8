#!/bin/bash
# Reproduce the Prometheus e2e check (Debian prometheus 2.42, no sudo needed: we are root).
set -e
cd /tmp/otel-research/prom
rm -rf data timing.jsonl
prometheus --config.file=prometheus.yml --storage.tsdb.path=$PWD/data \
  --web.listen-address=127.0.0.1:19090 --log.level=warn > prom.log 2>&1 & PP=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:19090/-/ready)" = 200 ]; do sleep 0.05; done
SPIN_MS=6000 EMIT_DELAY_MS=300 PROM_KEEP_MS=4000 TIMING_FILE=$PWD/timing.jsonl node ../v2/dist/main.js prometheus 19464
sleep 1
for q in 'last_over_time(loopwatch_block_count_total[5m])' \
         'histogram_quantile(0.99, sum by (le) (last_over_time(loopwatch_block_duration_bucket[5m])))' \
         'max_over_time(loopwatch_block_current_duration[2m])'; do
  curl -s -G http://127.0.0.1:19090/api/v1/query --data-urlencode "query=$q"; echo
done
kill $PP
