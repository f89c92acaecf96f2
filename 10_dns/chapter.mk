# 10_dns/chapter.mk — chapter 10's entry in the Makefile.
# PORT=N picks dns_server's UDP port (default 5310).

## chapter10            build chapter 10 and run its DNS server on 127.0.0.1:5310 (PORT=; try dig and resolve)
chapter10: PORT ?= 5310
chapter10: $(O)10_dns/dns_server $(O)10_dns/resolve $(O)10_dns/connect_name
	@mkdir -p build; \
	echo "try: dig @127.0.0.1 -p $(PORT) redis.workbook.test; build/10_dns/resolve --server 127.0.0.1:$(PORT) redis.workbook.test   (Ctrl-C here stops the server)"; \
	scripts/demo/run-demo.sh --pidfile build/dns_server.pid $(O)10_dns/dns_server --port $(PORT) --zone 10_dns/workbook.zone --verbose

## bench-chapter10      1,000 names against dns_server --delay 50 and dnsmasq: concurrent vs serial vs blocking, wall time and heartbeat lateness
bench-chapter10: $(O)10_dns/dns_server $(O)10_dns/resolve
	@10_dns/bench.sh

## demo10               classroom mode: chapter 10 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo10: export DEMO_TRACE ?= --trace
demo10: $(O)10_dns/dns_server $(O)10_dns/resolve
	@scripts/classroom/demo.sh 10
