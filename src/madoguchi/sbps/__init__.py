"""SoftBank Payment Service (SBPS): the link type (リンク型) and the API type
(API型), as SBPS documents them and as the open-source client
``wozaki/sbpayment.rb`` implements them. Generic: knows neither Shinsei nor
Kessai; each uses the half it needs."""
