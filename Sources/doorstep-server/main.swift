print("doorstep-server")
