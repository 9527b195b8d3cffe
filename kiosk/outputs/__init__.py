"""What the kiosk tells the world beyond its screen: the gate output (relays, webhook) and MQTT reports."""
