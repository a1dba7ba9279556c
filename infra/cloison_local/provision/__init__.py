"""Creates the resources of template.yaml in moto server, from the CloudFormation that AWS's SAM
translator makes of it (cloison_local.expand): the same resources `sam deploy` would create.

What moto cannot create is stood in for by the local stack and named in the table of creators
(Provisioner): functions run in the local runtime's workers, the REST API is served by the local
gateway, End User Messaging by the carrier simulator, CloudFront not at all (the gateway serves
the console). Any other type fails the start.

The work is shared by kind of resource: `provisioner` walks the template and calls, for each
resource, its type's creator in `storage` (keys, secrets, tables, buckets), `messaging` (queues,
topics, End User Messaging), `identity` (IAM roles, Cognito), `functions` (functions, their
event sources and permissions, the REST API, the console's CloudFront) or `operations`
(schedules, log groups, alarms); `base` holds what they share and the Stack they make.
"""

from cloison_local.provision.base import ConfigurationSet, Physical, PoolSpec, Stack
from cloison_local.provision.provisioner import Provisioner

__all__ = ["ConfigurationSet", "Physical", "PoolSpec", "Provisioner", "Stack"]
