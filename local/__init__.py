"""The local stack: DynamoDB Local, a local API gateway and fake channel APIs."""
