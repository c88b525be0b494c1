"""What starts work: schedules, the NetSuite webhook (receiving and processing pushes), views."""
