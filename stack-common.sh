# test hack: the first pick returns a taken port
pick_ports() { if [[ ! -e /tmp/oauthcheck/fake/picked ]]; then touch /tmp/oauthcheck/fake/picked; echo 50653; else python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; fi; }
