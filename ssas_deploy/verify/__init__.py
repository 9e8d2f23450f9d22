"""`ssas-deploy verify`: the tier's workload through the load balancer, judged against the
profile's targets."""
