"""The write side: the SmsConnection aggregate, number claims, rules, and the commands."""
