"""Personal data in customers' messages: found with Presidio, masked before it is kept."""
