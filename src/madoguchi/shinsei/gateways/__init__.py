"""Payment gateways: who collects an agency's fees. One base (``base.py``),
one registry (``registry.py``), one package per gateway (``kessai``,
``sbps_link``). Everything above a gateway — fees, due dates, 支払う, the
statuses 決済済 / 決済方法 / 決済日, reconciliation, staff views — speaks
only ``PaymentGateway`` and ``GatewayPayment``."""
