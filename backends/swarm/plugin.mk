# Swarm backend: libFuzzer targets for the engine's JSON (task and node
# lists, service lists with labels, error bodies, API versions: make
# fuzz-swarm) and for the event
# stream (line buffering and event classification, seeded with streams
# recorded from a real Swarm: make fuzz-swarm-events). The benchmark is
# bench/swarm.sh, run by make bench.
$(eval $(call fuzz_target,swarm,tests/fuzz/swarm/fuzz_json.c \
	$(addprefix backends/swarm/,parse.c events.c select.c services.c),-ljansson,\
	tests/fuzz/swarm/seeds,65536,backends/swarm/swarm.h))
$(eval $(call fuzz_target,swarm-events,tests/fuzz/swarm/fuzz_events.c \
	backends/swarm/events.c,-ljansson,tests/fuzz/swarm/events_seeds,200000,\
	backends/swarm/swarm.h))
