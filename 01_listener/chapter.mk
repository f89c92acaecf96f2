# 01_listener/chapter.mk — chapter 1's entry in the Makefile: how `make chapter1` runs it.

## chapter1             build chapter 1 and run the listener on 127.0.0.1:8080
chapter1: $(O)01_listener/listener
	@echo "try: telnet 127.0.0.1 8080   (Ctrl-C here stops the server)"
	@$(O)01_listener/listener --port 8080
